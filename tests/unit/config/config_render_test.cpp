// config-check's output, byte for byte: the key tables drive parsing and rendering alike.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "agent/config/config.h"

using namespace pgbackup;

TEST_CASE("config-check prints every key of every section, in a fixed order and layout") {
  ::setenv("CHAR_PW", "x", 1);
  ::setenv("CHAR_AK", "y", 1);
  ::unsetenv("CHAR_SK");
  const Config c = parse_config(R"yaml(web:
  listen_address: "127.0.0.1:9999"
  config_file: /etc/web.yml
audit_log: /var/log/audit.jsonl
targets:
  - name: pnode-pulse
    database: {host: db.example, port: 5434, user: pnodepulse, dbname: pnodepulse,
               password_env: CHAR_PW, connect_timeout: 15s}
    backup:
      dir: /backups/pnode-pulse
      file_prefix: pp
      schedule: "0 3 * * *"
      compression: 6
      timeout: 3h
      row_counts: off
    anomaly: {window: 9, min_ratio: 0.25, max_ratio: 4.5, min_size: 2KiB, table_drop_ratio: 0.75}
    retention: {daily: 10d, weekly: 60d, monthly: 400d, min_keep: 5}
    restore_test:
      schedule: "0 5 * * 1"
      pick: latest
      roles: as_backed_up
      max_age: 20d
      database: {host: staging, port: 5435, user: pp, dbname: pp_rt, passfile: /etc/pgpass}
      jobs: 3
      rto_target: 45m
      checks:
        - {name: nodes_present, sql: "SELECT count(*) > 0 FROM nodes"}
        - {name: two, sql: "SELECT 1"}
    restore:
      stop_command: [docker, compose, stop]
      start_command: [docker, compose, start]
    offsite:
      s3: {endpoint: "https://s3.eu-west-1.amazonaws.com", region: eu-west-1,
           bucket: b, prefix: "pp/", access_key_id_env: CHAR_AK, secret_access_key_env: CHAR_SK,
           tiers: [daily, monthly], storage_class: {daily: STANDARD_IA, monthly: GLACIER},
           server_side_encryption: "aws:kms", kms_key_id: "arn:k", path_style: true,
           multipart_threshold: 10MiB, part_size: 6MiB, list_page_size: 50, stall_timeout: 2m}
  - name: second
    database: {user: u2, dbname: d2}
    backup: {dir: /backups/second}
)yaml",
                                "good_full.yml");
  CHECK(render_config(c) == R"yaml(# from good_full.yml
web:
  listen_address: 127.0.0.1:9999
  config_file: /etc/web.yml
audit_log: /var/log/audit.jsonl
targets:
  - name: pnode-pulse
    database:
      host: db.example
      port: 5434
      user: pnodepulse
      dbname: pnodepulse
      password_env: CHAR_PW  # set (value hidden)
      connect_timeout: 15s
    backup:
      dir: /backups/pnode-pulse
      file_prefix: pp
      schedule: "0 3 * * *"
      compression: 6
      timeout: 3h
      row_counts: off
    anomaly: {window: 9, min_ratio: 0.25, max_ratio: 4.5, min_size: 2048, table_drop_ratio: 0.75}
    retention: {daily: 10d, weekly: 60d, monthly: 400d, min_keep: 5}
    restore_test:
      schedule: "0 5 * * 1"
      pick: latest
      roles: as_backed_up
      max_age: 20d
      database:
        host: staging
        port: 5435
        user: pp
        dbname: pp_rt
        passfile: /etc/pgpass
        connect_timeout: 10s
      jobs: 3
      rto_target: 45m
      checks:
        - {name: nodes_present, sql: SELECT count(*) > 0 FROM nodes}
        - {name: two, sql: SELECT 1}
    offsite:
      s3:
        endpoint: https://s3.eu-west-1.amazonaws.com
        region: eu-west-1
        bucket: b
        prefix: pp/
        access_key_id_env: CHAR_AK  # set (value hidden)
        secret_access_key_env: CHAR_SK  # NOT SET
        tiers: [daily, monthly]
        storage_class: {daily: STANDARD_IA, monthly: GLACIER, weekly: STANDARD}
        server_side_encryption: aws:kms
        kms_key_id: arn:k
        path_style: true
        multipart_threshold: 10485760
        part_size: 6291456
        list_page_size: 50
        stall_timeout: 2m
  - name: second
    database:
      host: localhost
      port: 5432
      user: u2
      dbname: d2
      connect_timeout: 10s
    backup:
      dir: /backups/second
      file_prefix: second
      schedule: "0 2 * * *"
      compression: 9
      timeout: 2h
      row_counts: exact
    anomaly: {window: 7, min_ratio: 0.5, max_ratio: 3, min_size: 1024, table_drop_ratio: 0.5}
    retention: {daily: 30d, weekly: 90d, monthly: 365d, min_keep: 3}
)yaml");
  // What it prints parses back to the same config.
  CHECK(render_config(parse_config(render_config(c), "good_full.yml")) == render_config(c));
}
