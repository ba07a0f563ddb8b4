#include "tests/support/pgbackrest_cluster.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace pgtest {
namespace {

void give_to_postgres(const fs::path& path) {
  if (::geteuid() != 0) return;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr || ::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("cannot give " + path.string() + " to postgres (run scripts/setup)");
  }
}

fs::path make_postgres_dir(const fs::path& path) {
  fs::create_directories(path);
  give_to_postgres(path);
  return path;
}

}  // namespace

PgBackRestCluster& PgBackRestCluster::shared() {
  static PgBackRestCluster cluster(PgBackRestClusterOptions{});
  return cluster;
}

namespace {

// The [global] lines that name the repository: a posix directory, or the S3 server's bucket.
std::string repo_settings(const PgBackRestClusterOptions& options, const fs::path& posix_repo,
                          const fs::path& ca_file) {
  if (options.s3 == nullptr) return "repo1-type=posix\nrepo1-path=" + posix_repo.string() + "\n";
  return "repo1-type=s3\nrepo1-path=/repo\nrepo1-s3-bucket=" + std::string(S3Server::kBucket) +
         "\nrepo1-s3-endpoint=localhost\nrepo1-storage-port=" +
         std::to_string(options.s3->direct_port()) +
         "\nrepo1-s3-uri-style=path\nrepo1-s3-region=us-east-1\nrepo1-s3-key=" +
         S3Server::kAccessKey + "\nrepo1-s3-key-secret=" + S3Server::kSecretKey +
         "\nrepo1-storage-ca-file=" + ca_file.string() + "\n";
}

}  // namespace

PgBackRestCluster::PgBackRestCluster(const PgBackRestClusterOptions& options) {
  dir_ = make_temp_dir("pgbackrest");
  give_to_postgres(dir_);
  config_ = dir_ / "pgbackrest.conf";
  const fs::path ca_file = dir_ / "ca.pem";
  if (options.s3 != nullptr) {
    repo_ = options.s3->bucket_dir() / "repo";
    object_suffix_ = S3Server::kObjectSuffix;
    fs::copy_file(options.s3->ca_file(), ca_file);
    give_to_postgres(ca_file);
  } else {
    repo_ = make_postgres_dir(dir_ / "repo");
  }
  PgClusterOptions pg_options;
  // Without TimescaleDB, no background workers write WAL between the test's steps.
  pg_options.timescaledb = options.timescaledb;
  pg_options.start = false;
  pg_options.hba_lines = {"local all postgres peer"};
  pg_options.settings = {
      {"wal_level", "replica"},
      {"archive_mode", "on"},
      {"archive_command",
       "pgbackrest --config=" + config_.string() + " --stanza=" + kStanza + " archive-push %p"},
  };
  pg_ = std::make_unique<PgCluster>(pg_options);
  {
    std::ofstream conf(config_);
    conf << "[global]\n"
         << repo_settings(options, repo_, ca_file)
         << (options.cipher_pass.empty()
                 ? ""
                 : "repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=" + options.cipher_pass + "\n")
         << "repo1-retention-full=99\n"
         << "compress-type=zst\nstart-fast=y\nprocess-max=2\n"
         << "lock-path=" << make_postgres_dir(dir_ / "lock").string() << "\n"
         << "log-path=" << make_postgres_dir(dir_ / "log").string() << "\n"
         << "spool-path=" << make_postgres_dir(dir_ / "spool").string() << "\n"
         << "log-level-console=warn\nlog-level-file=info\n\n"
         << "[" << kStanza << "]\n"
         << "pg1-path=" << pg_->data_dir().string() << "\n"
         << "pg1-port=" << pg_->port() << "\n"
         << "pg1-socket-path=" << pg_->dir().string() << "\n";
  }
  fs::permissions(config_, fs::perms::owner_read | fs::perms::owner_write);
  give_to_postgres(config_);
  pg_->start();
  const auto created = pgbackrest({"stanza-create"});
  if (!created.ok()) throw std::runtime_error("pgbackrest stanza-create failed: " + created.err);
}

std::vector<std::string> PgBackRestCluster::command_prefix() {
  if (::geteuid() == 0) return {"runuser", "-u", "postgres", "--", "pgbackrest"};
  return {"pgbackrest"};
}

pgbackup::pgbackrest::PgBackRestSettings PgBackRestCluster::settings() const {
  pgbackup::pgbackrest::PgBackRestSettings s;
  s.command = command_prefix();
  s.config = config_.string();
  s.stanza = kStanza;
  s.repo = 1;
  return s;
}

pgbackup::ProcessResult PgBackRestCluster::pgbackrest(const std::vector<std::string>& args) const {
  pgbackup::ProcessSpec spec;
  spec.argv = command_prefix();
  spec.argv.push_back("--config=" + config_.string());
  spec.argv.push_back("--stanza=" + std::string(kStanza));
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.timeout = std::chrono::seconds(120);
  return pgbackup::run_process(spec);
}

pgbackup::pgbackrest::InfoStanza PgBackRestCluster::info() const {
  const pgbackup::pgbackrest::PgBackRestCli cli(settings());
  return pgbackup::pgbackrest::parse_stanza_info(cli.info_json(), kStanza);
}

pgbackup::pgbackrest::WalContinuity PgBackRestCluster::wal_continuity_since(
    const std::string& start) const {
  using namespace pgbackup::pgbackrest;
  const PgBackRestCli cli(settings());
  const auto first = parse_wal_segment(start, segments_per_log());
  if (!first) throw std::runtime_error("not a WAL segment name: " + start);
  return check_wal_continuity(parse_wal_listing(cli.repo_ls_json(archive_repo_path())), *first);
}

std::vector<pgbackup::pgbackrest::InfoBackup> new_backups(
    const pgbackup::pgbackrest::InfoStanza& before, const pgbackup::pgbackrest::InfoStanza& after) {
  std::vector<pgbackup::pgbackrest::InfoBackup> out;
  for (const auto& b : after.backups) {
    if (before.backup(b.label) == nullptr) out.push_back(b);
  }
  return out;
}

std::string PgBackRestCluster::switch_wal() {
  // A switch needs WAL to close: pg_switch_wal() on an idle server switches nothing.
  exec("SELECT pg_logical_emit_message(false, 'pgbackup-test', 'switch')");
  const std::string segment = query_value("SELECT pg_walfile_name(pg_switch_wal())");
  for (int i = 0; i < 300; ++i) {
    if (!archived_segment_file(segment).empty()) return segment;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("segment " + segment + " was not archived within 30 s");
}

std::string PgBackRestCluster::system_identifier() {
  return query_value("SELECT system_identifier FROM pg_control_system()");
}

fs::path PgBackRestCluster::archive_dir() const { return repo_ / "archive" / kStanza / "15-1"; }

std::string PgBackRestCluster::archive_repo_path() const {
  return "archive/" + std::string(kStanza) + "/15-1";
}

fs::path PgBackRestCluster::backup_dir(const std::string& label) const {
  return repo_ / "backup" / kStanza / label;
}

fs::path PgBackRestCluster::archived_segment_file(const std::string& segment) const {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(archive_dir() / segment.substr(0, 16), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(segment + "-", 0) == 0 && name.ends_with(object_suffix_)) return e.path();
  }
  return {};
}

SetAside::SetAside(fs::path file) : file_(std::move(file)) {
  aside_ = file_;
  aside_ += ".set-aside";
  fs::rename(file_, aside_);
}

SetAside::~SetAside() {
  std::error_code ec;
  fs::rename(aside_, file_, ec);
}

Corruption::Corruption(fs::path file, std::size_t offset, const std::string& garbage)
    : file_(std::move(file)), offset_(offset) {
  std::fstream f(file_, std::ios::in | std::ios::out | std::ios::binary);
  original_.resize(garbage.size());
  f.seekg(static_cast<std::streamoff>(offset_));
  f.read(original_.data(), static_cast<std::streamsize>(original_.size()));
  if (f.gcount() != static_cast<std::streamsize>(garbage.size())) {
    throw std::runtime_error(file_.string() + " is too short to corrupt at that offset");
  }
  f.seekp(static_cast<std::streamoff>(offset_));
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

Corruption::~Corruption() {
  std::fstream f(file_, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset_));
  f.write(original_.data(), static_cast<std::streamsize>(original_.size()));
}

fs::path largest_file(const fs::path& dir) {
  fs::path best;
  std::uintmax_t best_size = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.file_size() > best_size) {
      best = e.path();
      best_size = e.file_size();
    }
  }
  return best;
}

}  // namespace pgtest
