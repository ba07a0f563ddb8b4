#include "agent/rules/schema_diff.h"

#include <catch2/catch.hpp>

#include <functional>

#include "agent/catalog/manifest.h"

using namespace pgbackup;

namespace {

// A small shop schema: orders with a primary key, an index and a foreign key; a view, a
// function, a sequence and plpgsql.
SchemaFingerprint shop() {
  SchemaFingerprint f;
  f.tables = {
      {"public.customers",
       {{"id", "integer", true}, {"name", "text", false}},
       {{"customers_pkey", "PRIMARY KEY (id)"}},
       {{"customers_pkey",
         "CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id)"}}},
      {"public.orders",
       {{"id", "integer", true}, {"customer_id", "integer", true}, {"amount", "integer", false}},
       {{"orders_customer_id_fkey", "FOREIGN KEY (customer_id) REFERENCES customers(id)"},
        {"orders_pkey", "PRIMARY KEY (id)"}},
       {{"orders_customer",
         "CREATE INDEX orders_customer ON public.orders USING btree (customer_id)"},
        {"orders_pkey", "CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)"}}},
  };
  f.views = {{"public.big_orders", " SELECT id FROM orders WHERE amount > 100;"}};
  f.functions = {"public.order_total(integer)"};
  f.sequences = {{"public.orders_id_seq", "integer"}};
  f.extensions = {{"plpgsql", "1.0"}};
  return f;
}

TableDefinition& table(SchemaFingerprint& f, const std::string& name) {
  for (TableDefinition& t : f.tables) {
    if (t.name == name) return t;
  }
  FAIL("no table " << name);
  return f.tables.front();
}

template <typename T>
void erase_named(std::vector<T>& v, const std::string& name) {
  std::erase_if(v, [&](const T& x) { return x.name == name; });
}

}  // namespace

TEST_CASE("the schema diff names every object added, dropped or altered between two backups") {
  struct Case {
    const char* what;
    std::function<void(SchemaFingerprint&)> change;
    std::vector<SchemaChange> expected;
  };
  using T = SchemaChangeType;
  const std::vector<Case> cases = {
      {"no change gives an empty diff", [](SchemaFingerprint&) {}, {}},
      {"ALTER TABLE ... DROP COLUMN",
       [](SchemaFingerprint& f) { erase_named(table(f, "public.orders").columns, "amount"); },
       {{T::dropped, "column", "public.orders.amount", "integer"}}},
      {"a changed column type",
       [](SchemaFingerprint& f) { table(f, "public.orders").columns[2].type = "bigint"; },
       {{T::altered, "column", "public.orders.amount", "integer → bigint"}}},
      {"a column made NOT NULL",
       [](SchemaFingerprint& f) { table(f, "public.customers").columns[1].not_null = true; },
       {{T::altered, "column", "public.customers.name", "text → text NOT NULL"}}},
      {"an added column",
       [](SchemaFingerprint& f) {
         table(f, "public.customers").columns.push_back({"email", "character varying(200)", false});
       },
       {{T::added, "column", "public.customers.email", "character varying(200)"}}},
      {"DROP INDEX",
       [](SchemaFingerprint& f) {
         erase_named(table(f, "public.orders").indexes, "orders_customer");
       },
       {{T::dropped, "index", "orders_customer on public.orders",
         "CREATE INDEX orders_customer ON public.orders USING btree (customer_id)"}}},
      {"a redefined index",
       [](SchemaFingerprint& f) {
         table(f, "public.orders").indexes[0].definition =
             "CREATE INDEX orders_customer ON public.orders USING hash (customer_id)";
       },
       {{T::altered, "index", "orders_customer on public.orders",
         "CREATE INDEX orders_customer ON public.orders USING btree (customer_id) → "
         "CREATE INDEX orders_customer ON public.orders USING hash (customer_id)"}}},
      {"a dropped foreign key",
       [](SchemaFingerprint& f) {
         erase_named(table(f, "public.orders").constraints, "orders_customer_id_fkey");
       },
       {{T::dropped, "constraint", "orders_customer_id_fkey on public.orders",
         "FOREIGN KEY (customer_id) REFERENCES customers(id)"}}},
      {"a new table is one change, with its columns",
       [](SchemaFingerprint& f) {
         f.tables.push_back(
             {"public.audit", {{"id", "bigint", true}, {"note", "text", false}}, {}, {}});
       },
       {{T::added, "table", "public.audit", "(id bigint NOT NULL, note text)"}}},
      {"a dropped table is one change, not one per column and index",
       [](SchemaFingerprint& f) { erase_named(f.tables, "public.customers"); },
       {{T::dropped, "table", "public.customers", "(id integer NOT NULL, name text)"}}},
      {"a dropped view",
       [](SchemaFingerprint& f) { f.views.clear(); },
       {{T::dropped, "view", "public.big_orders", ""}}},
      {"a redefined view",
       [](SchemaFingerprint& f) { f.views[0].definition = " SELECT id FROM orders;"; },
       {{T::altered, "view", "public.big_orders", "definition changed"}}},
      {"a function whose arguments changed is one dropped and one added",
       [](SchemaFingerprint& f) { f.functions = {"public.order_total(bigint)"}; },
       {{T::added, "function", "public.order_total(bigint)", ""},
        {T::dropped, "function", "public.order_total(integer)", ""}}},
      {"a sequence's type",
       [](SchemaFingerprint& f) { f.sequences[0].definition = "bigint"; },
       {{T::altered, "sequence", "public.orders_id_seq", "integer → bigint"}}},
      {"an extension installed and one updated",
       [](SchemaFingerprint& f) {
         f.extensions = {{"plpgsql", "1.1"}, {"timescaledb", "2.28.3"}};
       },
       {{T::altered, "extension", "plpgsql", "1.0 → 1.1"},
        {T::added, "extension", "timescaledb", "2.28.3"}}},
      {"a hypertable's chunk interval",
       [](SchemaFingerprint& f) {
         f.hypertables = {{"public.orders", "created (timestamp with time zone, 7 days)"}};
       },
       {{T::added, "hypertable", "public.orders", "created (timestamp with time zone, 7 days)"}}},
      {"several changes come tables first, by name, then the other kinds",
       [](SchemaFingerprint& f) {
         f.views.clear();
         table(f, "public.orders").columns[2].type = "bigint";
         erase_named(table(f, "public.customers").indexes, "customers_pkey");
       },
       {{T::dropped, "index", "customers_pkey on public.customers",
         "CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id)"},
        {T::altered, "column", "public.orders.amount", "integer → bigint"},
        {T::dropped, "view", "public.big_orders", ""}}},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      SchemaFingerprint after = shop();
      c.change(after);
      CHECK(diff_schemas(shop(), after) == c.expected);
    }
  }
}

TEST_CASE("schema changes are counted, summarized and described for people") {
  const std::vector<SchemaChange> changes = {
      {SchemaChangeType::dropped, "index", "i on public.t", "CREATE INDEX i ON public.t (a)"},
      {SchemaChangeType::dropped, "column", "public.t.b", "integer"},
      {SchemaChangeType::altered, "column", "public.t.c", "integer → bigint"},
  };
  const SchemaChangeCounts counts = count_changes(changes);
  CHECK(counts.added == 0);
  CHECK(counts.dropped == 2);
  CHECK(counts.altered == 1);
  CHECK(summarize_changes(counts) == "3 schema changes (2 dropped, 1 altered)");
  CHECK(summarize_changes({1, 0, 0}) == "1 schema change (1 added)");
  CHECK(summarize_changes({}) == "no schema changes");
  CHECK(describe_change(changes[2]) == "altered column public.t.c: integer → bigint");
  CHECK(describe_restore_difference(changes[0]) ==
        "index i on public.t is in the backup but was not restored (CREATE INDEX i ON public.t "
        "(a))");
  CHECK(describe_restore_difference(changes[2]) ==
        "column public.t.c differs (backup → restored): integer → bigint");
  CHECK(describe_restore_difference({SchemaChangeType::added, "table", "public.x", ""}) ==
        "table public.x was restored but is not in the backup");
}

TEST_CASE("per-table row changes list tables that grew, shrank, appeared or vanished") {
  const std::vector<TableRows> before = {
      {"public", "a", 10}, {"public", "b", 5}, {"public", "gone", 3}, {"public", "same", 7}};
  const std::vector<TableRows> after = {
      {"public", "a", 12}, {"public", "b", 0}, {"public", "new", 1}, {"public", "same", 7}};
  const RowChanges r = diff_row_counts(before, after);
  CHECK(r.unchanged == 1);
  CHECK(r.changed == std::vector<RowChange>{{"public.a", 10, 12},
                                            {"public.b", 5, 0},
                                            {"public.gone", 3, std::nullopt},
                                            {"public.new", std::nullopt, 1}});
  CHECK(diff_row_counts(before, before).changed.empty());
}

TEST_CASE("a manifest keeps its schema fingerprint and changes, and an old one without reads") {
  Manifest m;
  m.target = "shop";
  m.file = "shop_20260201_020000.dump";
  m.sha256 = std::string(64, 'a');
  m.schema = shop();
  m.schema_seconds = 0.012;
  m.schema_compared_with = "shop_20260131_020000.dump";
  m.schema_changes = {{SchemaChangeType::dropped, "view", "public.v", ""}};
  const nlohmann::json j = manifest_to_json(m);
  CHECK(j["schema"]["dropped"] == 1);
  CHECK(j["schema"]["added"] == 0);
  const Manifest back = manifest_from_json(j);
  REQUIRE(back.schema);
  CHECK(*back.schema == shop());
  CHECK(back.schema_compared_with == m.schema_compared_with);
  CHECK(back.schema_changes == m.schema_changes);
  CHECK(back.schema_seconds == Approx(0.012));

  nlohmann::json old = j;
  old.erase("schema");
  const Manifest legacy = manifest_from_json(old);
  CHECK_FALSE(legacy.schema);
  CHECK(legacy.schema_changes.empty());
  CHECK(manifest_to_json(legacy).count("schema") == 0);
}
