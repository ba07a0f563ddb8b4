#include "agent/catalog/manifest.h"

#include <algorithm>
#include <stdexcept>

#include "agent/core/json_fields.h"
#include "agent/storage/posix_storage.h"

namespace pgbackup {

const char* tier_name(Tier tier) {
  switch (tier) {
    case Tier::daily:
      return "daily";
    case Tier::weekly:
      return "weekly";
    case Tier::monthly:
      return "monthly";
  }
  return "daily";
}

Tier parse_tier(const std::string& name) {
  if (name == "daily") return Tier::daily;
  if (name == "weekly") return Tier::weekly;
  if (name == "monthly") return Tier::monthly;
  throw std::invalid_argument("unknown tier \"" + name + "\"");
}

std::int64_t Manifest::total_rows() const {
  std::int64_t total = 0;
  for (const TableRows& t : tables) total += t.rows;
  return total;
}

std::size_t Manifest::hypertable_count() const {
  return static_cast<std::size_t>(
      std::count_if(tables.begin(), tables.end(),
                    [](const TableRows& t) { return t.kind == RelationKind::hypertable; }));
}

std::string timescaledb_version(const Manifest& m) {
  for (const Extension& e : m.database.extensions) {
    if (e.name == "timescaledb") return e.version;
  }
  return "";
}

namespace {

// {schema, name, rows}, plus the kind and chunk counts of a hypertable and the hypertable of a
// continuous aggregate (an ordinary table's entry stays as it always was).
nlohmann::json relation_to_json(const TableRows& t) {
  nlohmann::json j = {{"schema", t.schema}, {"name", t.name}, {"rows", t.rows}};
  if (t.kind == RelationKind::hypertable) {
    j["kind"] = relation_kind_name(t.kind);
    j["chunks"] = t.chunks;
    j["compressed_chunks"] = t.compressed_chunks;
  }
  if (t.kind == RelationKind::continuous_aggregate) j["hypertable"] = t.hypertable;
  return j;
}

TableRows relation_from_json(const nlohmann::json& j, RelationKind default_kind) {
  TableRows t{j.at("schema").get<std::string>(), j.at("name").get<std::string>(),
              json_whole_number_at<std::int64_t>(j, "rows")};
  t.kind = j.contains("kind") ? parse_relation_kind(j.at("kind").get<std::string>()) : default_kind;
  t.chunks = json_whole_number_or(j, "chunks", std::int64_t{0});
  t.compressed_chunks = json_whole_number_or(j, "compressed_chunks", std::int64_t{0});
  t.hypertable = j.value("hypertable", "");
  return t;
}

// [{name, <key>}] for the definitions of one kind ("definition", "data_type", "version"...).
nlohmann::json named_to_json(const std::vector<NamedDefinition>& v, const char* key) {
  nlohmann::json out = nlohmann::json::array();
  for (const NamedDefinition& d : v) out.push_back({{"name", d.name}, {key, d.definition}});
  return out;
}

std::vector<NamedDefinition> named_from_json(const nlohmann::json& j, const char* field,
                                             const char* key) {
  std::vector<NamedDefinition> out;
  for (const auto& d : j.value(field, nlohmann::json::array())) {
    out.push_back({d.at("name").get<std::string>(), d.at(key).get<std::string>()});
  }
  return out;
}

}  // namespace

nlohmann::json fingerprint_to_json(const SchemaFingerprint& f) {
  using nlohmann::json;
  json tables = json::array();
  for (const TableDefinition& t : f.tables) {
    json columns = json::array();
    for (const ColumnDefinition& c : t.columns) {
      columns.push_back({{"name", c.name}, {"type", c.type}, {"not_null", c.not_null}});
    }
    tables.push_back({{"name", t.name},
                      {"columns", columns},
                      {"constraints", named_to_json(t.constraints, "definition")},
                      {"indexes", named_to_json(t.indexes, "definition")}});
  }
  return {{"tables", tables},
          {"views", named_to_json(f.views, "definition")},
          {"functions", f.functions},
          {"sequences", named_to_json(f.sequences, "data_type")},
          {"extensions", named_to_json(f.extensions, "version")},
          {"hypertables", named_to_json(f.hypertables, "dimensions")}};
}

SchemaFingerprint fingerprint_from_json(const nlohmann::json& j) {
  SchemaFingerprint f;
  for (const auto& t : j.at("tables")) {
    TableDefinition table{t.at("name").get<std::string>(), {}, {}, {}};
    for (const auto& c : t.at("columns")) {
      table.columns.push_back({c.at("name").get<std::string>(), c.at("type").get<std::string>(),
                               c.at("not_null").get<bool>()});
    }
    table.constraints = named_from_json(t, "constraints", "definition");
    table.indexes = named_from_json(t, "indexes", "definition");
    f.tables.push_back(std::move(table));
  }
  f.views = named_from_json(j, "views", "definition");
  f.functions = j.value("functions", std::vector<std::string>{});
  f.sequences = named_from_json(j, "sequences", "data_type");
  f.extensions = named_from_json(j, "extensions", "version");
  f.hypertables = named_from_json(j, "hypertables", "dimensions");
  return f;
}

nlohmann::json schema_changes_to_json(const std::vector<SchemaChange>& changes) {
  nlohmann::json out = nlohmann::json::array();
  for (const SchemaChange& c : changes) {
    out.push_back({{"change", schema_change_type_name(c.change)},
                   {"kind", c.kind},
                   {"name", c.name},
                   {"detail", c.detail}});
  }
  return out;
}

nlohmann::json manifest_to_json(const Manifest& m) {
  using nlohmann::json;
  json extensions = json::array();
  for (const Extension& e : m.database.extensions) {
    extensions.push_back({{"name", e.name}, {"version", e.version}});
  }
  json tables = json::array();
  for (const TableRows& t : m.tables) tables.push_back(relation_to_json(t));
  json shrunk = json::array();
  for (const ShrunkTable& t : m.shrunk_tables) {
    shrunk.push_back({{"schema", t.schema},
                      {"name", t.name},
                      {"previous_rows", t.previous_rows},
                      {"rows", t.rows}});
  }
  json offsite = json::array();
  for (const OffsiteCopy& o : m.offsite) {
    offsite.push_back({{"url", o.url},
                       {"storage_class", o.storage_class},
                       {"etag", o.etag},
                       {"uploaded_at", o.uploaded_at}});
  }
  json j = {
      {"format", "pgbackup-manifest/1"},
      {"target", m.target},
      {"file", m.file},
      {"started_at", format_iso8601(m.started_at)},
      {"finished_at", format_iso8601(m.finished_at)},
      {"duration_seconds", m.duration_seconds},
      {"size_bytes", m.size_bytes},
      {"sha256", m.sha256},
      {"tier", tier_name(m.tier)},
      {"database",
       {{"name", m.database.name},
        {"server_version", m.database.server_version},
        {"size_bytes", m.database.size_bytes},
        {"extensions", extensions}}},
      {"pg_dump", {{"version", m.pg_dump_version}, {"compression", m.compression}}},
      {"row_counts", m.row_counts_exact ? "exact" : "off"},
      {"tables", tables},
      {"toc_entries", m.toc_entries},
      {"checks",
       {{"size_baseline_bytes", m.size_baseline_bytes},
        {"size_anomaly", m.size_anomaly},
        {"size_anomaly_reason", m.size_anomaly_reason},
        {"shrunk_tables", shrunk}}},
      {"offsite", offsite},
  };
  if (!m.continuous_aggregates.empty()) {
    json aggregates = json::array();
    for (const TableRows& t : m.continuous_aggregates) aggregates.push_back(relation_to_json(t));
    j["continuous_aggregates"] = aggregates;
  }
  if (m.schema) {
    const SchemaChangeCounts counts = count_changes(m.schema_changes);
    j["schema"] = {{"fingerprint", fingerprint_to_json(*m.schema)},
                   {"fingerprint_seconds", m.schema_seconds},
                   {"compared_with", m.schema_compared_with},
                   {"changes", schema_changes_to_json(m.schema_changes)},
                   {"added", counts.added},
                   {"dropped", counts.dropped},
                   {"altered", counts.altered}};
  }
  if (m.globals) {
    j["globals"] = {{"file", m.globals->file},
                    {"size_bytes", m.globals->size_bytes},
                    {"sha256", m.globals->sha256},
                    {"roles", m.globals->roles},
                    {"passwords_included", m.globals->passwords_included},
                    {"warnings", m.globals->warnings},
                    {"seconds", m.globals->seconds}};
  }
  if (m.encryption) {
    const EncryptionInfo& e = *m.encryption;
    j["encryption"] = {{"format", "age"},
                       {"recipients", e.recipients},
                       {"fingerprints", e.fingerprints},
                       {"plaintext_size_bytes", e.plaintext_size_bytes},
                       {"plaintext_sha256", e.plaintext_sha256}};
    if (m.globals) {
      j["encryption"]["globals_plaintext_size_bytes"] = e.globals_plaintext_size_bytes;
      j["encryption"]["globals_plaintext_sha256"] = e.globals_plaintext_sha256;
    }
  }
  if (m.repository_size_bytes > 0) {
    j["repository"] = {{"avail_bytes", m.repository_avail_bytes},
                       {"size_bytes", m.repository_size_bytes}};
  }
  if (m.restore_test) {
    j["restore_test"] = {{"tested_at", m.restore_test->tested_at},
                         {"success", m.restore_test->success},
                         {"error", m.restore_test->error}};
  }
  return j;
}

Manifest manifest_from_json(const nlohmann::json& j) {
  if (!json_has_format(j, "pgbackup-manifest/1")) {
    throw std::runtime_error("not a pgbackup-manifest/1 document");
  }
  auto time_field = [&](const char* key) {
    const auto t = parse_iso8601(j.at(key).get<std::string>());
    if (!t) throw std::runtime_error(std::string("malformed timestamp in ") + key);
    return *t;
  };
  Manifest m;
  try {
    m.target = j.at("target").get<std::string>();
    m.file = j.at("file").get<std::string>();
    if (!is_plain_file_name(m.file)) {
      throw std::runtime_error("\"file\" must name the dump beside the manifest, not a path: \"" +
                               m.file + "\"");
    }
    m.started_at = time_field("started_at");
    m.finished_at = time_field("finished_at");
    m.duration_seconds = j.at("duration_seconds").get<double>();
    m.size_bytes = json_whole_number_at<std::uint64_t>(j, "size_bytes");
    m.sha256 = j.at("sha256").get<std::string>();
    m.tier = parse_tier(j.at("tier").get<std::string>());
    const auto& db = j.at("database");
    m.database.name = db.at("name").get<std::string>();
    m.database.server_version = db.at("server_version").get<std::string>();
    m.database.size_bytes = json_whole_number_at<std::uint64_t>(db, "size_bytes");
    for (const auto& e : db.at("extensions")) {
      m.database.extensions.push_back(
          {e.at("name").get<std::string>(), e.at("version").get<std::string>()});
    }
    m.pg_dump_version = j.at("pg_dump").at("version").get<std::string>();
    m.compression = json_whole_number_at<int>(j.at("pg_dump"), "compression");
    m.row_counts_exact = j.value("row_counts", "exact") == "exact";
    for (const auto& t : j.at("tables")) {
      m.tables.push_back(relation_from_json(t, RelationKind::table));
    }
    for (const auto& t : j.value("continuous_aggregates", nlohmann::json::array())) {
      m.continuous_aggregates.push_back(relation_from_json(t, RelationKind::continuous_aggregate));
    }
    m.toc_entries = json_whole_number_at<int>(j, "toc_entries");
    if (j.contains("checks")) {
      const auto& c = j.at("checks");
      m.size_baseline_bytes = c.value("size_baseline_bytes", 0.0);
      m.size_anomaly = c.value("size_anomaly", false);
      m.size_anomaly_reason = c.value("size_anomaly_reason", "");
      for (const auto& t : c.value("shrunk_tables", nlohmann::json::array())) {
        m.shrunk_tables.push_back({t.at("schema").get<std::string>(),
                                   t.at("name").get<std::string>(),
                                   json_whole_number_at<std::int64_t>(t, "previous_rows"),
                                   json_whole_number_at<std::int64_t>(t, "rows")});
      }
    }
    if (j.contains("repository")) {
      m.repository_avail_bytes =
          json_whole_number_or(j.at("repository"), "avail_bytes", std::uint64_t{0});
      m.repository_size_bytes =
          json_whole_number_or(j.at("repository"), "size_bytes", std::uint64_t{0});
    }
    for (const auto& o : j.value("offsite", nlohmann::json::array())) {
      m.offsite.push_back({o.value("url", ""), o.value("storage_class", ""), o.value("etag", ""),
                           o.value("uploaded_at", "")});
    }
    if (j.contains("schema")) {
      const auto& s = j.at("schema");
      m.schema = fingerprint_from_json(s.at("fingerprint"));
      m.schema_seconds = s.value("fingerprint_seconds", 0.0);
      m.schema_compared_with = s.value("compared_with", "");
      for (const auto& c : s.value("changes", nlohmann::json::array())) {
        m.schema_changes.push_back({parse_schema_change_type(c.at("change").get<std::string>()),
                                    c.at("kind").get<std::string>(),
                                    c.at("name").get<std::string>(), c.value("detail", "")});
      }
    }
    if (j.contains("globals")) {
      const auto& g = j.at("globals");
      const std::string file = g.at("file").get<std::string>();
      if (!is_plain_file_name(file)) {
        throw std::runtime_error(
            "\"globals.file\" must name the companion file beside the manifest, not a path: \"" +
            file + "\"");
      }
      m.globals = GlobalsFileInfo{file,
                                  json_whole_number_at<std::uint64_t>(g, "size_bytes"),
                                  g.at("sha256").get<std::string>(),
                                  g.value("roles", std::vector<std::string>{}),
                                  g.value("passwords_included", false),
                                  g.value("warnings", std::vector<std::string>{}),
                                  g.value("seconds", 0.0)};
    }
    if (j.contains("encryption")) {
      const auto& e = j.at("encryption");
      if (e.value("format", "") != "age") {
        throw std::runtime_error("\"encryption.format\" must be \"age\"");
      }
      m.encryption =
          EncryptionInfo{e.at("recipients").get<std::vector<std::string>>(),
                         e.value("fingerprints", std::vector<std::string>{}),
                         json_whole_number_at<std::uint64_t>(e, "plaintext_size_bytes"),
                         e.at("plaintext_sha256").get<std::string>(),
                         json_whole_number_or<std::uint64_t>(e, "globals_plaintext_size_bytes", 0),
                         e.value("globals_plaintext_sha256", "")};
    }
    if (j.contains("restore_test")) {
      const auto& r = j.at("restore_test");
      m.restore_test = RestoreTestMark{r.value("tested_at", ""), r.value("success", false),
                                       r.value("error", "")};
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("malformed manifest: ") + e.what());
  } catch (const std::invalid_argument& e) {  // an unknown tier, relation kind or change type
    throw std::runtime_error(std::string("malformed manifest: ") + e.what());
  }
  return m;
}

std::string manifest_mismatch(const Manifest& m, const std::string& dump_name) {
  if (m.file != dump_name) {
    return "the manifest describes another file, \"" + m.file +
           "\" (hint: a manifest must keep the name of its dump; restore both under their "
           "original names)";
  }
  const bool age_name = dump_name.size() > 4 && dump_name.substr(dump_name.size() - 4) == ".age";
  if (m.encryption.has_value() != age_name) {
    return m.encryption ? "the manifest says the dump is encrypted, but its name does not end in "
                          ".age (hint: restore it under its original name)"
                        : "the file is named .age, but its manifest describes a plaintext dump "
                          "(hint: restore it under its original name)";
  }
  if (m.globals && m.globals->file != dump_name + kGlobalsSuffix) {
    return "the manifest names another companion file, \"" + m.globals->file +
           "\" (hint: the companion file is \"" + dump_name + kGlobalsSuffix +
           "\"; restore the dump, its manifest and its companion file under their original "
           "names)";
  }
  return "";
}

}  // namespace pgbackup
