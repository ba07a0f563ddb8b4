#include "agent/config/yaml_section.h"

#include <algorithm>

#include "agent/core/text.h"
#include "agent/core/units.h"
#include "agent/schedule/cron.h"

namespace pgbackup {

Section::Section(const YAML::Node& node, std::string path, const std::string& source)
    : node_(node), path_(std::move(path)), source_(source) {
  if (node_ && !node_.IsMap()) fail(node_, path_ + " must be a mapping");
}

void Section::allow_only(const std::vector<std::string_view>& allowed) const {
  if (!node_) return;
  for (const auto& kv : node_) {
    // fuzz: a complex key ("? [a]: x") made as<std::string>() throw a YAML exception.
    if (!kv.first.IsScalar()) {
      fail(kv.first, "a key" + (path_.empty() ? std::string() : " of " + path_) +
                         " must be a plain name, not a list or mapping (hint: write name: value)");
    }
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::vector<std::string> known(allowed.begin(), allowed.end());
    fail(kv.first,
         "unknown key \"" + key_path(key) + "\" (known keys here: " + join(known, ", ") + ")");
  }
}

YAML::Node Section::get(const char* key) const {
  if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return node_[key];
}

std::string Section::string(const char* key, std::string fallback) const {
  const YAML::Node v = get(key);
  if (!v) return fallback;
  if (!v.IsScalar()) fail(v, key_path(key) + " must be a string");
  return v.Scalar();
}

std::string Section::required_string(const char* key) const {
  const YAML::Node v = get(key);
  if (!v || !v.IsScalar() || v.Scalar().empty()) {
    fail(v ? v : node_, key_path(key) + " is required");
  }
  return v.Scalar();
}

std::chrono::seconds Section::duration(const char* key, std::chrono::seconds fallback) const {
  const YAML::Node v = get(key);
  if (!v) return fallback;
  try {
    return parse_duration(v.Scalar());
  } catch (const std::invalid_argument& e) {
    fail(v, key_path(key) + ": " + e.what());
  }
}

std::chrono::seconds Section::positive_duration(const char* key,
                                                std::chrono::seconds fallback) const {
  const auto d = duration(key, fallback);
  if (d.count() <= 0) fail(get(key), key_path(key) + " must be longer than 0s");
  return d;
}

std::uint64_t Section::size(const char* key, std::uint64_t fallback) const {
  const YAML::Node v = get(key);
  if (!v) return fallback;
  try {
    return parse_size(v.Scalar());
  } catch (const std::invalid_argument& e) {
    fail(v, key_path(key) + ": " + e.what());
  }
}

std::string Section::schedule(const char* key, std::string fallback) const {
  std::string value = string(key, fallback);
  try {
    CronSchedule::parse(value);
  } catch (const std::invalid_argument& e) {
    fail(get(key), key_path(key) + ": " + e.what());
  }
  return value;
}

std::string Section::choice(const char* key, std::string fallback,
                            const std::vector<std::string_view>& options) const {
  std::string value = string(key, fallback);
  if (std::find(options.begin(), options.end(), value) != options.end()) return value;
  std::vector<std::string> list;  // the empty choice ("not set") is not spelled out
  for (std::string_view o : options) {
    if (!o.empty()) list.emplace_back(o);
  }
  fail(get(key), key_path(key) + " must be one of " + join(list, ", ") + ", got \"" + value + "\"");
}

std::vector<std::string> Section::string_list(const char* key) const {
  const YAML::Node v = get(key);
  std::vector<std::string> out;
  if (!v) return out;
  if (!v.IsSequence()) fail(v, key_path(key) + " must be a list of strings");
  for (const auto& item : v) {
    if (!item.IsScalar()) fail(item, key_path(key) + " must be a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

void Section::fail(const YAML::Node& at, const std::string& message) const {
  std::string where = source_;
  const YAML::Mark mark = at ? at.Mark() : (node_ ? node_.Mark() : YAML::Mark::null_mark());
  if (!mark.is_null()) where += ":" + std::to_string(mark.line + 1);
  throw ConfigError(where + ": " + message);
}

}  // namespace pgbackup
