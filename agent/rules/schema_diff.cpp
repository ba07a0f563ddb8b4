#include "agent/rules/schema_diff.h"

#include <functional>
#include <map>
#include <stdexcept>

namespace pgbackup {
namespace {

constexpr const char* kArrow = " → ";

std::string column_text(const ColumnDefinition& c) {
  return c.type + (c.not_null ? " NOT NULL" : "");
}

std::string columns_text(const std::vector<ColumnDefinition>& columns) {
  std::string out = "(";
  for (const ColumnDefinition& c : columns) {
    out += (out.size() > 1 ? ", " : "") + c.name + " " + column_text(c);
  }
  return out + ")";
}

// Walks two name-keyed maps in name order: on_added / on_dropped / on_both(before, after).
template <typename T, typename Added, typename Dropped, typename Both>
void merge_by_name(const std::map<std::string, const T*>& before,
                   const std::map<std::string, const T*>& after, Added on_added, Dropped on_dropped,
                   Both on_both) {
  std::map<std::string, std::pair<const T*, const T*>> all;
  for (const auto& [name, v] : before) all[name].first = v;
  for (const auto& [name, v] : after) all[name].second = v;
  for (const auto& [name, pair] : all) {
    if (!pair.first) {
      on_added(name, *pair.second);
    } else if (!pair.second) {
      on_dropped(name, *pair.first);
    } else {
      on_both(name, *pair.first, *pair.second);
    }
  }
}

template <typename T, typename Key>
std::map<std::string, const T*> index_by(const std::vector<T>& items, Key key) {
  std::map<std::string, const T*> out;
  for (const T& item : items) out[key(item)] = &item;
  return out;
}

std::map<std::string, const NamedDefinition*> by_name(const std::vector<NamedDefinition>& v) {
  return index_by(v, [](const NamedDefinition& d) { return d.name; });
}

// Added, dropped and redefined entries of one kind. `display` turns a name into the change's
// name; `show_definition` says whether an added/dropped entry carries its definition as detail
// and an altered one "old → new" (views say "definition changed": theirs are long).
void diff_named(const std::vector<NamedDefinition>& before,
                const std::vector<NamedDefinition>& after, const std::string& kind,
                const std::function<std::string(const std::string&)>& display, bool show_definition,
                std::vector<SchemaChange>& out) {
  merge_by_name<NamedDefinition>(
      by_name(before), by_name(after),
      [&](const std::string& name, const NamedDefinition& d) {
        out.push_back(
            {SchemaChangeType::added, kind, display(name), show_definition ? d.definition : ""});
      },
      [&](const std::string& name, const NamedDefinition& d) {
        out.push_back(
            {SchemaChangeType::dropped, kind, display(name), show_definition ? d.definition : ""});
      },
      [&](const std::string& name, const NamedDefinition& a, const NamedDefinition& b) {
        if (a.definition == b.definition) return;
        out.push_back(
            {SchemaChangeType::altered, kind, display(name),
             show_definition ? a.definition + kArrow + b.definition : "definition changed"});
      });
}

std::string same_name(const std::string& name) { return name; }

void diff_table(const TableDefinition& a, const TableDefinition& b,
                std::vector<SchemaChange>& out) {
  const auto column_name = [](const ColumnDefinition& c) { return c.name; };
  merge_by_name<ColumnDefinition>(
      index_by(a.columns, column_name), index_by(b.columns, column_name),
      [&](const std::string& name, const ColumnDefinition& c) {
        out.push_back({SchemaChangeType::added, "column", a.name + "." + name, column_text(c)});
      },
      [&](const std::string& name, const ColumnDefinition& c) {
        out.push_back({SchemaChangeType::dropped, "column", a.name + "." + name, column_text(c)});
      },
      [&](const std::string& name, const ColumnDefinition& x, const ColumnDefinition& y) {
        if (x == y) return;
        out.push_back({SchemaChangeType::altered, "column", a.name + "." + name,
                       column_text(x) + kArrow + column_text(y)});
      });
  const auto on_table = [&](const std::string& name) { return name + " on " + a.name; };
  diff_named(a.constraints, b.constraints, "constraint", on_table, true, out);
  diff_named(a.indexes, b.indexes, "index", on_table, true, out);
}

}  // namespace

const char* schema_change_type_name(SchemaChangeType type) {
  switch (type) {
    case SchemaChangeType::added:
      return "added";
    case SchemaChangeType::dropped:
      return "dropped";
    case SchemaChangeType::altered:
      return "altered";
  }
  return "altered";
}

SchemaChangeType parse_schema_change_type(const std::string& name) {
  if (name == "added") return SchemaChangeType::added;
  if (name == "dropped") return SchemaChangeType::dropped;
  if (name == "altered") return SchemaChangeType::altered;
  throw std::invalid_argument("unknown schema change \"" + name + "\"");
}

std::vector<SchemaChange> diff_schemas(const SchemaFingerprint& before,
                                       const SchemaFingerprint& after) {
  std::vector<SchemaChange> out;
  const auto table_name = [](const TableDefinition& t) { return t.name; };
  merge_by_name<TableDefinition>(
      index_by(before.tables, table_name), index_by(after.tables, table_name),
      [&](const std::string& name, const TableDefinition& t) {
        out.push_back({SchemaChangeType::added, "table", name, columns_text(t.columns)});
      },
      [&](const std::string& name, const TableDefinition& t) {
        out.push_back({SchemaChangeType::dropped, "table", name, columns_text(t.columns)});
      },
      [&](const std::string&, const TableDefinition& a, const TableDefinition& b) {
        diff_table(a, b, out);
      });
  diff_named(before.views, after.views, "view", same_name, false, out);
  std::vector<NamedDefinition> functions_before, functions_after;
  for (const std::string& f : before.functions) functions_before.push_back({f, ""});
  for (const std::string& f : after.functions) functions_after.push_back({f, ""});
  diff_named(functions_before, functions_after, "function", same_name, false, out);
  diff_named(before.sequences, after.sequences, "sequence", same_name, true, out);
  diff_named(before.extensions, after.extensions, "extension", same_name, true, out);
  diff_named(before.hypertables, after.hypertables, "hypertable", same_name, true, out);
  return out;
}

SchemaChangeCounts count_changes(const std::vector<SchemaChange>& changes) {
  SchemaChangeCounts c;
  for (const SchemaChange& s : changes) {
    switch (s.change) {
      case SchemaChangeType::added:
        ++c.added;
        break;
      case SchemaChangeType::dropped:
        ++c.dropped;
        break;
      case SchemaChangeType::altered:
        ++c.altered;
        break;
    }
  }
  return c;
}

std::string summarize_changes(const SchemaChangeCounts& c) {
  if (c.total() == 0) return "no schema changes";
  std::string parts;
  const auto part = [&](std::size_t n, const char* what) {
    if (n > 0) parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  part(c.added, "added");
  part(c.dropped, "dropped");
  part(c.altered, "altered");
  return std::to_string(c.total()) + (c.total() == 1 ? " schema change (" : " schema changes (") +
         parts + ")";
}

std::string describe_change(const SchemaChange& c) {
  return std::string(schema_change_type_name(c.change)) + " " + c.kind + " " + c.name +
         (c.detail.empty() ? "" : ": " + c.detail);
}

std::string describe_restore_difference(const SchemaChange& c) {
  const std::string object = c.kind + " " + c.name;
  switch (c.change) {
    case SchemaChangeType::dropped:
      return object + " is in the backup but was not restored" +
             (c.detail.empty() ? "" : " (" + c.detail + ")");
    case SchemaChangeType::added:
      return object + " was restored but is not in the backup" +
             (c.detail.empty() ? "" : " (" + c.detail + ")");
    case SchemaChangeType::altered:
      break;
  }
  return object + " differs (backup" + kArrow + "restored): " + c.detail;
}

RowChanges diff_row_counts(const std::vector<TableRows>& before,
                           const std::vector<TableRows>& after) {
  const auto name = [](const TableRows& t) { return t.schema + "." + t.name; };
  RowChanges out;
  merge_by_name<TableRows>(
      index_by(before, name), index_by(after, name),
      [&](const std::string& table, const TableRows& t) {
        out.changed.push_back({table, std::nullopt, t.rows});
      },
      [&](const std::string& table, const TableRows& t) {
        out.changed.push_back({table, t.rows, std::nullopt});
      },
      [&](const std::string& table, const TableRows& a, const TableRows& b) {
        if (a.rows == b.rows) {
          ++out.unchanged;
        } else {
          out.changed.push_back({table, a.rows, b.rows});
        }
      });
  return out;
}

}  // namespace pgbackup
