#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/yaml_section.h"
#include "agent/core/units.h"

namespace pgbackup {

// One key of a config section, named once: how to read it into a T and how config-check writes
// it back. Each reader starts from T's current value, which is the key's default.
template <typename T>
struct ConfigKey {
  const char* name;
  std::function<void(const Section& section, const char* key, T& into)> parse;
  // Writes "key: value" (or nothing, for a value that is shown only when set); empty: the key
  // is not shown by config-check.
  std::function<void(YAML::Emitter& out, const char* key, const T& from)> render;
};

template <typename T>
using KeyTable = std::vector<ConfigKey<T>>;

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

// Builders for the common kinds of key: a member of T read and written as is.
namespace keys {

template <typename V>
void emit(YAML::Emitter& out, const char* key, const V& value) {
  out << YAML::Key << key << YAML::Value << value;
}

template <typename T>
ConfigKey<T> text(const char* name, std::string T::*field) {
  return {name,
          [field](const Section& s, const char* k, T& t) { t.*field = s.string(k, t.*field); },
          [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }};
}

template <typename T>
ConfigKey<T> required_text(const char* name, std::string T::*field) {
  return {name, [field](const Section& s, const char* k, T& t) { t.*field = s.required_string(k); },
          [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }};
}

// A whole number in [min, max], kept in an int.
template <typename T>
ConfigKey<T> whole(const char* name, int T::*field, long min, long max) {
  return {name,
          [=](const Section& s, const char* k, T& t) {
            t.*field = static_cast<int>(s.integer(k, t.*field, min, max));
          },
          [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }};
}

template <typename T>
ConfigKey<T> number(const char* name, double T::*field, double min, double max) {
  return {name,
          [=](const Section& s, const char* k, T& t) {
            t.*field = s.number<double>(k, t.*field, min, max);
          },
          [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }};
}

// A size ("1KiB"), written back as a byte count.
template <typename T>
ConfigKey<T> size(const char* name, std::uint64_t T::*field) {
  return {name, [field](const Section& s, const char* k, T& t) { t.*field = s.size(k, t.*field); },
          [field](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.*field); }};
}

// A duration ("90s", "26h"); `positive` refuses 0s.
template <typename T>
ConfigKey<T> duration(const char* name, std::chrono::seconds T::*field, bool positive = true) {
  return {name,
          [=](const Section& s, const char* k, T& t) {
            t.*field = positive ? s.positive_duration(k, t.*field) : s.duration(k, t.*field);
          },
          [field](YAML::Emitter& out, const char* k, const T& t) {
            emit(out, k, format_duration(t.*field));
          }};
}

// A cron expression, written back quoted (it starts with a digit or a star).
template <typename T>
ConfigKey<T> schedule(const char* name, std::string T::*field) {
  return {name,
          [field](const Section& s, const char* k, T& t) { t.*field = s.schedule(k, t.*field); },
          [field](YAML::Emitter& out, const char* k, const T& t) {
            out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << t.*field;
          }};
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

// A nested section (`flow`: written on one line, {a: 1, b: 2}), read with its own table.
template <typename T, typename S>
ConfigKey<T> section(const char* name, S T::*field, const KeyTable<S>& (*table)(),
                     bool flow = false) {
  return {
      name,
      [=](const Section& s, const char* k, T& t) { parse_keys(s.section(k), table(), t.*field); },
      [=](YAML::Emitter& out, const char* k, const T& t) {
        out << YAML::Key << k << YAML::Value;
        if (flow) out << YAML::Flow;
        render_keys(out, table(), t.*field);
      }};
}

}  // namespace keys
}  // namespace pgbackup
