// The keys of a target's `offsite` section, named once: each table drives parse_config,
// render_config (config-check) and the configuration reference.
#include <yaml-cpp/yaml.h>

#include "agent/config/target_keys.h"

namespace pgbackup {
namespace {

using namespace keys;

ConfigKey<S3Config> tiers_key() {
  return ConfigKey<S3Config>{"tiers",
                             [](const Section& s, const char* k, S3Config& c) {
                               if (s.has(k)) c.tiers = s.string_list(k);
                               for (const std::string& tier : c.tiers) {
                                 if (tier != "daily" && tier != "weekly" && tier != "monthly") {
                                   s.fail(s.get(k), s.key_path(k) + ": unknown tier \"" + tier +
                                                        "\" (daily, weekly or monthly)");
                                 }
                               }
                             },
                             [](YAML::Emitter& out, const char* k, const S3Config& c) {
                               out << YAML::Key << k << YAML::Value << YAML::Flow << c.tiers;
                             }}
      .kind("list of `daily`, `weekly`, `monthly`")
      .doc("The tiers copied off-site. A backup already past its tier's window is not uploaded.");
}

ConfigKey<S3Config> storage_class_key() {
  return ConfigKey<S3Config>{"storage_class",
                             [](const Section& s, const char* k, S3Config& c) {
                               const Section sc = s.section(k);
                               sc.allow_only({"daily", "weekly", "monthly"});
                               for (const char* tier : {"daily", "weekly", "monthly"}) {
                                 c.storage_class[tier] = sc.string(tier, "STANDARD");
                               }
                             },
                             [](YAML::Emitter& out, const char* k, const S3Config& c) {
                               out << YAML::Key << k << YAML::Value << YAML::Flow
                                   << c.storage_class;
                             }}
      .kind("map of tier to storage class")
      .defaults_to("`STANDARD` for each tier")
      .doc(
          "The S3 storage class of each tier's objects, e.g. `{daily: STANDARD_IA, weekly: "
          "STANDARD_IA, monthly: GLACIER}`. Objects in `GLACIER` must be restored in S3 before "
          "the agent can fetch them.");
}

// S3's limits on a part: 5 MiB to 5 GiB.
ConfigKey<S3Config> part_size_key() {
  ConfigKey<S3Config> key = size("part_size", &S3Config::part_size);
  key.parse = [](const Section& s, const char* k, S3Config& c) {
    c.part_size = s.size(k, c.part_size);
    if (c.part_size < (5ull << 20) || c.part_size > (5ull << 30)) {
      s.fail(s.get(k), s.key_path(k) + " must be between 5MiB and 5GiB (S3's part limits)");
    }
  };
  return std::move(key)
      .kind("size, 5MiB to 5GiB")
      .doc("The size of each part of a multipart upload.");
}

const KeyTable<S3Config>& s3_keys() {
  static const KeyTable<S3Config> table = {
      required_text("endpoint", &S3Config::endpoint)
          .doc("The S3 endpoint URL, e.g. `https://s3.us-east-1.amazonaws.com`."),
      text("region", &S3Config::region).doc("The region requests are signed for (SigV4)."),
      required_text("bucket", &S3Config::bucket)
          .doc("The bucket (it must exist; the agent does not create it)."),
      text("prefix", &S3Config::prefix)
          .doc("Put before every object's key, e.g. `pnode-pulse/`; off-site retention looks "
               "only under it."),
      secret_variable("access_key_id_env", &S3Config::access_key_id_env, true)
          .doc("The environment variable that holds the access key id."),
      secret_variable("secret_access_key_env", &S3Config::secret_access_key_env, true)
          .doc("The environment variable that holds the secret access key."),
      tiers_key(),
      storage_class_key(),
      choice("server_side_encryption", &S3Config::server_side_encryption, {"", "AES256", "aws:kms"})
          .doc("Server-side encryption asked of S3 for each object; none when empty."),
      text_if_set("kms_key_id", &S3Config::kms_key_id)
          .doc("The KMS key of `aws:kms` encryption; without it S3 uses its default key."),
      ConfigKey<S3Config>{
          "path_style",
          [](const Section& s, const char* k, S3Config& c) {
            c.path_style =
                s.choice(k, c.path_style ? "true" : "false", {"true", "false"}) == "true";
          },
          [](YAML::Emitter& out, const char* k, const S3Config& c) { emit(out, k, c.path_style); }}
          .kind("`true` or `false`")
          .doc("Path-style URLs (`ENDPOINT/BUCKET/KEY`, for MinIO and other S3-compatible "
               "servers) instead of virtual-hosted ones (`BUCKET.ENDPOINT/KEY`)."),
      size("multipart_threshold", &S3Config::multipart_threshold)
          .doc("Files of this size or more are uploaded in parts, one part at a time."),
      part_size_key(),
      whole("list_page_size", &S3Config::list_page_size, 1, 1000)
          .doc("How many objects one ListObjectsV2 page asks for (`max-keys`)."),
      duration("stall_timeout", &S3Config::stall_timeout)
          .doc("A transfer moving under 1 KiB/s for this long is cut and retried (as is a "
               "server that takes the body and never answers)."),
  };
  return table;
}

}  // namespace

const KeyTable<std::optional<S3Config>>& offsite_keys() {
  static const KeyTable<std::optional<S3Config>> table = {
      ConfigKey<std::optional<S3Config>>{
          "s3",
          [](const Section& s, const char* k, std::optional<S3Config>& c) {
            parse_keys(s.section(k), s3_keys(), c.emplace());
          },
          [](YAML::Emitter& out, const char* k, const std::optional<S3Config>& c) {
            out << YAML::Key << k << YAML::Value;
            render_keys(out, s3_keys(), *c);
          }}
          .kind("section")
          .defaults_to("none")
          .doc("Copy backups to an S3 bucket (AWS or S3-compatible). The keys come from the "
               "environment; the IAM policy needs `s3:PutObject`, `GetObject`, `DeleteObject`, "
               "`ListBucket` and `AbortMultipartUpload` on the bucket and prefix.")
          .with_keys(s3_keys),
  };
  return table;
}

}  // namespace pgbackup
