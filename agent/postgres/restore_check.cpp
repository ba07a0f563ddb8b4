#include "agent/postgres/restore_check.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "agent/postgres/table_reads.h"

namespace pgbackup {

std::optional<std::string> run_restore_check(pqxx::connection& conn,
                                             const RestoreTestConfig::Check& c) {
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result r = tx.exec(c.sql);
    if (r.size() != 1 || r.columns() != 1) {
      return c.name + ": returned " + std::to_string(r.size()) + " row(s) of " +
             std::to_string(r.columns()) + " column(s), not a single true";
    }
    if (r[0][0].is_null()) return c.name + ": returned NULL";
    const std::string value = r[0][0].c_str();
    if (value == "t") return std::nullopt;
    if (value == "f") return c.name + ": returned false";
    return c.name + ": returned " + value +
           ", not a boolean (hint: write the check as a "
           "condition, e.g. SELECT count(*) > 0 FROM nodes)";
  } catch (const std::exception& e) {
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    return c.name + ": " + what;
  }
}

namespace {

// The tables a user reads (ordinary and partitioned, not a partition or inheritance child,
// outside the catalogs and TimescaleDB's internal schema) and, through the inheritance tree,
// every relation that stores their rows. Only ordinary heaps that are not an inheritance child
// (a hypertable's chunk may be compressed, and is read whole) are split, and only where TID range
// scans exist.
constexpr const char* kStoredRelations = R"(
WITH RECURSIVE top AS (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_timescaledb_internal')
    AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
    AND NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid)
), tree (top, rel) AS (
  SELECT oid, oid FROM top
  UNION SELECT tree.top, i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.rel
)
SELECT tn.nspname || '.' || tc.relname,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       EXISTS (SELECT FROM pg_inherits i WHERE i.inhparent = c.oid),
       c.relkind = 'r' AND am.amname = 'heap'
         AND current_setting('server_version_num')::int >= 140000
         AND (c.relispartition OR NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid)),
       pg_relation_size(c.oid) / current_setting('block_size')::bigint
FROM tree
JOIN pg_class c ON c.oid = tree.rel JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class tc ON tc.oid = tree.top JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_am am ON am.oid = c.relam
WHERE c.relkind <> 'p' OR tree.rel = tree.top
)";

std::vector<StoredRelation> stored_relations(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  std::vector<StoredRelation> out;
  for (const auto& row : tx.exec(kStoredRelations)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<bool>(),
                   row[3].as<bool>(), row[4].as<std::uint64_t>()});
  }
  return out;
}

// Reads are handed out in the plan's order to whichever reader is free; the first failure
// stops them all.
class TableReaders {
 public:
  explicit TableReaders(std::vector<TableRead> reads)
      : reads_(std::move(reads)), rows_(reads_.size(), 0) {}

  void run(pqxx::connection& conn) {
    std::size_t i = reads_.size();
    try {
      pqxx::read_transaction tx(conn);
      for (i = next_++; i < reads_.size() && !failed_; i = next_++) {
        rows_[i] = tx.exec1(reads_[i].sql)[0].as<std::uint64_t>();
      }
    } catch (const std::exception& e) {
      fail(i < reads_.size() ? "cannot read table " + reads_[i].table + " in full: " + e.what()
                             : std::string("cannot read the tables: ") + e.what());
    }
  }

  std::map<std::string, std::uint64_t> counts() const {
    if (failed_) throw std::runtime_error(error_);
    std::map<std::string, std::uint64_t> out;
    for (std::size_t i = 0; i < reads_.size(); ++i) out[reads_[i].table] += rows_[i];
    return out;
  }

 private:
  void fail(const std::string& why) {
    const std::lock_guard lock(mutex_);
    if (!failed_.exchange(true)) error_ = why;
  }

  const std::vector<TableRead> reads_;
  std::vector<std::uint64_t> rows_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::string error_;
};

}  // namespace

unsigned default_table_readers() { return std::clamp(std::thread::hardware_concurrency(), 1u, 4u); }

std::map<std::string, std::uint64_t> count_every_table(pqxx::connection& conn,
                                                       const ConnectFn& connect, unsigned readers,
                                                       std::uint64_t piece_bytes) {
  std::uint64_t block_size = 0;
  {
    pqxx::nontransaction tx(conn);
    block_size = tx.exec1("SHOW block_size")[0].as<std::uint64_t>();
  }
  TableReaders pool(plan_table_reads(stored_relations(conn), piece_bytes / block_size));
  std::vector<std::jthread> others;
  for (unsigned i = 1; i < readers; ++i) {
    others.emplace_back([&pool, &connect] {
      std::unique_ptr<pqxx::connection> own;
      try {
        own = connect();
        own->set_variable("max_parallel_workers_per_gather", "0");
      } catch (const std::exception& e) {
        spdlog::warn("reading the tables on fewer connections: {}", e.what());
        return;
      }
      pool.run(*own);
    });
  }
  if (readers > 1) conn.set_variable("max_parallel_workers_per_gather", "0");
  pool.run(conn);
  others.clear();
  if (readers > 1) conn.set_variable("max_parallel_workers_per_gather", "DEFAULT");
  return pool.counts();
}

}  // namespace pgbackup
