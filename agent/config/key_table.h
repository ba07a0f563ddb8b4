#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/yaml_section.h"
#include "agent/core/units.h"

namespace pgbackup {

// One row of the configuration reference (docs/configuration.md, pgbackup-agent.yml(5)), made
// from a key table by describe_keys: the tables are the one source of what each key means.
struct KeyReference {
  std::string path;           // "backup.schedule", "restore_test.checks[].sql"
  std::string type;           // "duration", "integer, 0 to 9", "`exact` or `off`"
  std::string default_value;  // "`2h`", "required", "none"
  std::string meaning;        // plain text; `code` in backquotes
};

template <typename T>
struct ConfigKey;
template <typename T>
using KeyTable = std::vector<ConfigKey<T>>;
template <typename T>
void describe_keys(const KeyTable<T>& keys, const std::string& prefix,
                   std::vector<KeyReference>& out);

// The value a key's `render` writes, as the reference shows it: "`10s`", "`[weekly, monthly]`",
// or "none" when it writes nothing (comments such as "NOT SET" are dropped). In reference.cpp.
std::string rendered_default(const std::function<void(YAML::Emitter&)>& render);

// One key of a config section, named once: how to read it into a T, how config-check writes it
// back, and what the reference says of it. Each reader starts from T's current value, which is
// the key's default.
template <typename T>
struct ConfigKey {
  using Parse = std::function<void(const Section& section, const char* key, T& into)>;
  // Writes "key: value" (or nothing, for a value that is shown only when set); empty: the key
  // is not shown by config-check.
  using Render = std::function<void(YAML::Emitter& out, const char* key, const T& from)>;

  ConfigKey(const char* key_name, Parse parse_key, Render render_key)
      : name(key_name), parse(std::move(parse_key)), render(std::move(render_key)) {}

  const char* name;
  Parse parse;
  Render render;

  // The reference: the builders below set the type (and how a default reads); every key needs
  // doc(). The default shown is `fixed_default` if set, else `shown_default(T{})`, else what
  // render writes for T{}.
  std::string type;
  std::string meaning;
  std::string fixed_default;
  std::function<std::string(const T&)> shown_default;
  // A section's (or a list's) own keys, described under "<path>." (or "<path>[].").
  std::function<void(const std::string& path, std::vector<KeyReference>& out)> sub_keys;

  ConfigKey doc(std::string text) && {
    meaning = std::move(text);
    return std::move(*this);
  }
  ConfigKey kind(std::string text) && {
    type = std::move(text);
    return std::move(*this);
  }
  ConfigKey defaults_to(std::string text) && {
    fixed_default = std::move(text);
    return std::move(*this);
  }
  // The keys of `table` belong under this one; `item` is "[]" for a list of sections.
  template <typename S>
  ConfigKey with_keys(const KeyTable<S>& (*table)(), const char* item = "") && {
    sub_keys = [table, item](const std::string& path, std::vector<KeyReference>& out) {
      describe_keys(table(), path + item + ".", out);
    };
    return std::move(*this);
  }
};

// Refuses keys not in `keys`, then reads each key in table order.
template <typename T>
void parse_keys(const Section& section, const KeyTable<T>& keys, T& into) {
  std::vector<std::string_view> names;
  for (const ConfigKey<T>& k : keys) names.push_back(k.name);
  section.allow_only(names);
  for (const ConfigKey<T>& k : keys) k.parse(section, k.name, into);
}

// Writes the keys of `from` as one YAML mapping, in table order.
template <typename T>
void render_keys(YAML::Emitter& out, const KeyTable<T>& keys, const T& from) {
  out << YAML::BeginMap;
  for (const ConfigKey<T>& k : keys) {
    if (k.render) k.render(out, k.name, from);
  }
  out << YAML::EndMap;
}

// Appends one reference row per key of `keys` (and of their sections), in table order.
template <typename T>
void describe_keys(const KeyTable<T>& keys, const std::string& prefix,
                   std::vector<KeyReference>& out) {
  const T defaults{};
  for (const ConfigKey<T>& k : keys) {
    KeyReference row{prefix + k.name, k.type, k.fixed_default, k.meaning};
    if (row.default_value.empty() && k.shown_default) row.default_value = k.shown_default(defaults);
    if (row.default_value.empty() && !k.sub_keys) {
      row.default_value = rendered_default([&](YAML::Emitter& e) {
        if (k.render) k.render(e, k.name, defaults);
      });
    }
    out.push_back(std::move(row));
    if (k.sub_keys) k.sub_keys(prefix + k.name, out);
  }
}

// Builders for the common kinds of key: a member of T read and written as is.
namespace keys {

template <typename V>
void emit(YAML::Emitter& out, const char* key, const V& value) {
  out << YAML::Key << key << YAML::Value << value;
}

// "integer, 0 to 9", or "number, at least 1" when the top is out of sight.
std::string range_type(const char* kind, double min, double max);
// "`random` or `latest`"; an empty option (the value "not set") is not spelled out.
std::string choice_type(const std::vector<std::string_view>& options);

template <typename T>
ConfigKey<T> text(const char* name, std::string T::*field) {
  return ConfigKey<T>{
      name, [field](const Section& s, const char* k, T& t) { t.*field = s.string(k, t.*field); },
      [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }}
      .kind("string");
}

template <typename T>
ConfigKey<T> required_text(const char* name, std::string T::*field) {
  return ConfigKey<T>{
      name, [field](const Section& s, const char* k, T& t) { t.*field = s.required_string(k); },
      [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }}
      .kind("string")
      .defaults_to("required");
}

// A string that must be one of `options` (string literals: the table keeps pointers to them).
template <typename T>
ConfigKey<T> choice(const char* name, std::string T::*field,
                    std::initializer_list<std::string_view> options) {
  const std::vector<std::string_view> allowed(options);
  return ConfigKey<T>{
      name,
      [=](const Section& s, const char* k, T& t) { t.*field = s.choice(k, t.*field, allowed); },
      [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }}
      .kind(choice_type(allowed));
}

// A whole number in [min, max], kept in an int.
template <typename T>
ConfigKey<T> whole(const char* name, int T::*field, long min, long max) {
  return ConfigKey<T>{
      name,
      [=](const Section& s, const char* k, T& t) {
        t.*field = static_cast<int>(s.integer(k, t.*field, min, max));
      },
      [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }}
      .kind(range_type("integer", static_cast<double>(min), static_cast<double>(max)));
}

template <typename T>
ConfigKey<T> number(const char* name, double T::*field, double min, double max) {
  return ConfigKey<T>{
      name,
      [=](const Section& s, const char* k, T& t) {
        t.*field = s.number<double>(k, t.*field, min, max);
      },
      [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }}
      .kind(range_type("number", min, max));
}

// A size ("1KiB"), written back as a byte count (and shown in the reference as a size).
template <typename T>
ConfigKey<T> size(const char* name, std::uint64_t T::*field) {
  ConfigKey<T> key{
      name, [field](const Section& s, const char* k, T& t) { t.*field = s.size(k, t.*field); },
      [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }};
  key.shown_default = [field](const T& t) { return "`" + format_size(t.*field) + "`"; };
  return std::move(key).kind("size");
}

// A duration ("90s", "26h"); `positive` refuses 0s.
template <typename T>
ConfigKey<T> duration(const char* name, std::chrono::seconds T::*field, bool positive = true) {
  return ConfigKey<T>{name,
                      [=](const Section& s, const char* k, T& t) {
                        t.*field =
                            positive ? s.positive_duration(k, t.*field) : s.duration(k, t.*field);
                      },
                      [field](YAML::Emitter& out, const char* k, const T& t) {
                        emit(out, k, format_duration(t.*field));
                      }}
      .kind("duration");
}

// An optional positive duration: absent, it stays empty, and config-check leaves it out.
template <typename T>
ConfigKey<T> optional_duration(const char* name, std::optional<std::chrono::seconds> T::*field) {
  return ConfigKey<T>{name,
                      [field](const Section& s, const char* k, T& t) {
                        if (s.has(k)) t.*field = s.positive_duration(k, std::chrono::seconds{});
                      },
                      [field](YAML::Emitter& out, const char* k, const T& t) {
                        if (t.*field) emit(out, k, format_duration(*(t.*field)));
                      }}
      .kind("duration")
      .defaults_to("none");
}

// A cron expression, written back quoted (it starts with a digit or a star).
template <typename T>
ConfigKey<T> schedule(const char* name, std::string T::*field) {
  return ConfigKey<T>{
      name, [field](const Section& s, const char* k, T& t) { t.*field = s.schedule(k, t.*field); },
      [field](YAML::Emitter& out, const char* k, const T& t) {
        out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << t.*field;
      }}
      .kind("cron schedule (UTC)");
}

// A string shown by config-check only when set.
template <typename T>
ConfigKey<T> text_if_set(const char* name, std::string T::*field) {
  ConfigKey<T> key = text(name, field);
  key.render = [field](YAML::Emitter& out, const char* k, const T& t) {
    if (!(t.*field).empty()) emit(out, k, t.*field);
  };
  return key;
}

// The name of a variable holding a secret, with a comment that says whether it is set (never
// its value).
template <typename T>
ConfigKey<T> secret_variable(const char* name, std::string T::*field, bool shown_if_empty) {
  ConfigKey<T> key = text(name, field);
  key.render = [=](YAML::Emitter& out, const char* k, const T& t) {
    const std::string& var = t.*field;
    if (var.empty() && !shown_if_empty) return;
    const std::string state =
        var.empty() ? "" : (std::getenv(var.c_str()) ? "set (value hidden)" : "NOT SET");
    out << YAML::Key << k << YAML::Value << var << YAML::Comment(state);
  };
  return std::move(key).kind("variable name");
}

// A nested section (`flow`: written on one line, {a: 1, b: 2}), read with its own table.
template <typename T, typename S>
ConfigKey<T> section(const char* name, S T::*field, const KeyTable<S>& (*table)(),
                     bool flow = false) {
  return ConfigKey<T>{
      name,
      [=](const Section& s, const char* k, T& t) { parse_keys(s.section(k), table(), t.*field); },
      [=](YAML::Emitter& out, const char* k, const T& t) {
        out << YAML::Key << k << YAML::Value;
        if (flow) out << YAML::Flow;
        render_keys(out, table(), t.*field);
      }}
      .kind("section")
      .with_keys(table);
}

}  // namespace keys
}  // namespace pgbackup
