#include "agent/engines/pgbackrest/pgbackrest_restore_test.h"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include <random>

#include "agent/catalog/backup_dir.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/engines/pgbackrest/pgbackrest_catalog.h"
#include "agent/engines/pgbackrest/repo_path.h"
#include "agent/engines/pgbackrest/scratch_cluster.h"
#include "agent/postgres/heartbeat.h"
#include "agent/postgres/postgres.h"
#include "agent/postgres/restore_check.h"
#include "agent/rules/heartbeat.h"
#include "agent/rules/recovery_target.h"

namespace pgbackup::pgbackrest {
namespace {

double random_unit() {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

double seconds_since(const JobContext& ctx, SteadyTime start) {
  return std::chrono::duration<double>(ctx.clock.steady_now() - start).count();
}

// The source's shared_preload_libraries and max_* settings (the scratch cluster must not run
// with less), or nothing when the production server cannot be reached.
std::map<std::string, std::string> source_settings(const TargetConfig& target,
                                                   std::string& data_directory) {
  std::map<std::string, std::string> out;
  try {
    const auto conn = DatabaseEndpoint(target.database).connect();
    pqxx::read_transaction tx(*conn);
    for (const auto& row :
         tx.exec("SELECT name, setting FROM pg_settings WHERE name = 'shared_preload_libraries' OR "
                 "(name LIKE 'max\\_%' AND context = 'postmaster')")) {
      out[row[0].as<std::string>()] = row[1].as<std::string>();
    }
    data_directory = tx.exec1("SELECT setting FROM pg_settings WHERE name = 'data_directory'")[0]
                         .as<std::string>();
  } catch (const std::exception& e) {
    spdlog::warn(
        "{}: the source's settings could not be read ({}); the scratch cluster keeps "
        "those of the backup",
        target.name, e.what());
  }
  return out;
}

std::uint32_t timeline_of_segment(const std::string& segment) {
  return segment.size() >= 8 ? static_cast<std::uint32_t>(std::stoul(segment.substr(0, 8), 0, 16))
                             : 0;
}

class PgBackRestRestoreTest final : public RestoreTestRun {
 public:
  PgBackRestRestoreTest(const Config& config, const TargetConfig& target, RestoreTestInputs in,
                        const JobContext& ctx)
      : config_(config),
        target_(target),
        rt_(*target.restore_test),
        in_(std::move(in)),
        ctx_(ctx) {}

  std::vector<fs::path> remove_leftovers() override {
    return remove_scratch_leftovers(rt_.scratch_dir, scratch_prefix(target_.name));
  }

  const CatalogEntry* choose(const std::optional<fs::path>& file, SysTime /*now*/) override {
    const CatalogEntry* named = nullptr;
    if (file) {
      for (const CatalogEntry& e : in_.catalog) {
        if (e.name() == file->string()) named = &e;
      }
      if (!named || !named->good()) {
        throw OperationError("no good pgBackRest backup named " + file->string() +
                             " (hint: `pgbackup-agent list` shows the sets)");
      }
    }
    RecoveryWindow window = in_.window;
    if (named) window.start = consistent_from(*named);
    if (rt_.recovery_target == "random_time" && window.start && window.end) {
      target_point_ = RecoveryTarget::at_time(random_time_in(window, random_unit()));
    }
    const CatalogEntry* chosen = named ? named : choose_backup(in_.catalog, target_point_);
    if (!chosen) {
      // Say why the newest backup is not good (a WAL gap names its segments).
      why_none_ = "there is no good pgBackRest backup to restore";
      for (const CatalogEntry& e : in_.catalog) {
        if (!e.good()) {
          why_none_ =
              "there is no good backup to restore: " + e.name() + " is not good: " + e.problem();
        }
      }
    } else {
      why_none_ = check_in_window(target_point_, in_.window);
    }
    return why_none_.empty() ? chosen : nullptr;
  }

  std::string nothing_to_test() const override { return why_none_; }

  void restore_and_check(const CatalogEntry& backup, RestoreTestReport& report) override {
    report.recovery_target = target_point_.describe();
    const InfoBackup* set = nullptr;
    for (const InfoBackup& b : in_.info.backups) {
      if (b.label == backup.name()) set = &b;
    }
    if (!set) throw OperationError("pgbackrest info no longer lists " + backup.name());
    const SteadyTime started = ctx_.clock.steady_now();
    prepare_scratch(*set);
    restore(*set);
    report.restore_seconds = seconds_since(ctx_, started);
    const SteadyTime replay = ctx_.clock.steady_now();
    cluster_->wait_promoted(
        login_user(), std::chrono::duration_cast<std::chrono::seconds>(target_.backup.timeout),
        ctx_.cancel);
    report.replay_seconds = seconds_since(ctx_, replay);
    const SteadyTime checks = ctx_.clock.steady_now();
    prove(*set, report);
    report.checks_seconds = seconds_since(ctx_, checks);
  }

  void clean_up(RestoreTestReport& report) noexcept override {
    if (!cluster_) return;
    cluster_->stop();
    try {
      // The postmaster's log stays next to the report: <state>/restore-tests/<stamp>.log.
      const std::string log = cluster_->read_log();
      if (!log.empty()) {
        const fs::path dir = target_.state_dir() / "restore-tests";
        create_private_dir(dir);
        const fs::path kept = dir / (format_file_stamp(ctx_.now()) + "-postmaster.log");
        write_file_atomic(kept, log, fs::perms::owner_read | fs::perms::owner_write);
        report.postmaster_log = kept.string();
      }
    } catch (const std::exception& e) {
      spdlog::warn("cannot keep the scratch cluster's log: {}", e.what());
    }
    cluster_.reset();
  }

  // restore-tests.jsonl is the record of a pgBackRest set's tests (its record has no mark).
  void mark(const CatalogEntry&, const RestoreTestReport&) override {}

 private:
  std::string login_user() const {
    return target_.database.user.empty() ? "postgres" : target_.database.user;
  }

  void prepare_scratch(const InfoBackup& set) {
    const std::string conf_path =
        in_.settings.config.empty() ? kDefaultConfigFile : in_.settings.config;
    const std::string conf = read_file(conf_path);
    std::string data_directory;
    source_ = source_settings(target_, data_directory);
    for (const std::string& pgdata :
         {data_directory, option_in_config(conf, in_.settings.stanza, "pg1-path").value_or("")}) {
      if (const std::string r = scratch_dir_refusal(rt_.scratch_dir, pgdata); !r.empty()) {
        throw OperationError(r);
      }
    }
    fs::create_directories(rt_.scratch_dir);
    const FilesystemStats fs_stats = filesystem_of(rt_.scratch_dir);
    if (const std::string r = space_refusal(rt_.scratch_dir, fs_stats.avail_bytes, set.size);
        !r.empty()) {
      throw OperationError(r);
    }
    cluster_ =
        std::make_unique<ScratchCluster>(rt_.scratch_dir, scratch_prefix(target_.name), ctx_.now());
    const fs::path own = cluster_->pgbackrest_dir();
    private_conf_ = own / "pgbackrest.conf";
    cluster_->write_file(private_conf_,
                         private_config(conf, {(own / "lock").string(), (own / "log").string(),
                                               (own / "spool").string()}));
  }

  void restore(const InfoBackup& set) {
    PgBackRestSettings s = in_.settings;
    s.config = private_conf_.string();
    RestoreRequest request;
    request.pg_path = cluster_->data().string();
    request.target = target_point_;
    request.set = set.label;
    request.archive_mode_off = true;
    PgBackRestCli(s, {target_.backup.timeout, ctx_.cancel}).restore(request);
    cluster_->own_files();
    const std::string version = read_file(cluster_->data() / "PG_VERSION");
    ScratchSettings settings;
    settings.source = source_;
    settings.configured = rt_.settings;
    cluster_->start(settings, version.substr(0, version.find('\n')));
  }

  void prove(const InfoBackup& set, RestoreTestReport& report) {
    std::string superuser;
    {
      const auto conn = cluster_->connect(login_user(), "postgres");
      pqxx::nontransaction tx(*conn);
      superuser = tx.exec1("SELECT rolname FROM pg_roles WHERE oid = 10")[0].as<std::string>();
    }
    const auto conn = cluster_->connect(superuser, target_.database.dbname);
    {
      pqxx::nontransaction tx(*conn);
      const std::string system_id =
          tx.exec1("SELECT system_identifier::text FROM pg_control_system()")[0].as<std::string>();
      const InfoDatabase* db = in_.info.database(set.db_id);
      if (!db || std::to_string(db->system_id) != system_id) {
        report.failed_checks.push_back("system identifier: the scratch cluster is " + system_id +
                                       ", the source " +
                                       (db ? std::to_string(db->system_id) : "unknown"));
      }
      const std::uint32_t timeline = timeline_of_segment(
          tx.exec1("SELECT pg_walfile_name(pg_current_wal_lsn())")[0].as<std::string>());
      if (timeline <= timeline_of_segment(set.archive_start)) {
        report.failed_checks.push_back("timeline: still " + std::to_string(timeline) +
                                       " after promotion");
      }
      if (target_point_.kind == RecoveryTarget::Kind::time) prove_stop(tx, report);
      // Without its library a TimescaleDB database reads as plain inheritance: the compressed
      // chunks' rows would be silently missing from the counts.
      if (tx.exec1("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'timescaledb') AND "
                   "current_setting('shared_preload_libraries') NOT LIKE '%timescaledb%'")[0]
              .as<bool>()) {
        report.failed_checks.push_back(
            "timescaledb: the database uses TimescaleDB but the scratch cluster does not preload "
            "it (the source's shared_preload_libraries could not be read; hint: check the "
            "target's database connection, or set restore_test.settings.shared_preload_libraries)");
      }
    }
    if (rt_.heartbeat) prove_heartbeat(*conn, report);
    report.table_counts = count_every_table(
        *conn, [&] { return cluster_->connect(superuser, target_.database.dbname); });
    for (const RestoreTestConfig::Check& check : rt_.checks) {
      if (auto failure = run_restore_check(*conn, check)) report.failed_checks.push_back(*failure);
    }
  }

  // Recovery stopped at the target: the last replayed commit is not after it, and the log's
  // stopping point says where it stopped.
  void prove_stop(pqxx::nontransaction& tx, RestoreTestReport& report) {
    const pqxx::row r = tx.exec1(
        "SELECT extract(epoch FROM pg_last_xact_replay_timestamp())::float8, "
        "pg_last_xact_replay_timestamp()::text");
    if (!r[0].is_null() &&
        from_unix_seconds(r[0].as<double>()) > target_point_.time + std::chrono::microseconds(1)) {
      report.failed_checks.push_back("recovery target: the last replayed commit (" +
                                     r[1].as<std::string>() + ") is after the target " +
                                     format_target_time(target_point_.time));
    }
    const std::string stop = recovery_stopping_point(cluster_->read_log());
    if (stop.empty()) {
      report.failed_checks.push_back(
          "recovery target: the postmaster's log names no stopping point for " +
          format_target_time(target_point_.time));
    } else {
      spdlog::info("{}: {}", target_.name, stop);
    }
  }

  // The recovery-point probe: the newest heartbeat restored lies within one cadence before the
  // target time, or (latest) before the archive's end as the test found it.
  void prove_heartbeat(pqxx::connection& conn, RestoreTestReport& report) {
    const std::optional<SysTime> newest = read_newest_heartbeat(conn);
    if (newest) report.heartbeat = format_target_time(*newest);
    const bool exact = target_point_.kind == RecoveryTarget::Kind::time;
    if (!exact && !in_.window.end) {
      report.failed_checks.push_back(
          "heartbeat: the recovery window has no end to compare the heartbeat with");
      return;
    }
    const HeartbeatBound bound{exact ? target_point_.time : *in_.window.end, exact, *rt_.heartbeat};
    if (std::string finding = heartbeat_finding(bound, newest); !finding.empty()) {
      report.failed_checks.push_back(std::move(finding));
    }
  }

  const Config& config_;
  const TargetConfig& target_;
  const RestoreTestConfig& rt_;
  RestoreTestInputs in_;
  const JobContext& ctx_;
  RecoveryTarget target_point_;
  std::string why_none_;
  std::map<std::string, std::string> source_;
  std::unique_ptr<ScratchCluster> cluster_;
  fs::path private_conf_;
};

}  // namespace

std::string scratch_prefix(const std::string& target) { return "pgbackup-" + target + "-"; }

std::unique_ptr<RestoreTestRun> pgbackrest_restore_test(const Config& config,
                                                        const TargetConfig& target,
                                                        RestoreTestInputs inputs,
                                                        const JobContext& ctx) {
  return std::make_unique<PgBackRestRestoreTest>(config, target, std::move(inputs), ctx);
}

}  // namespace pgbackup::pgbackrest
