#include "agent/core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/core/systemd.h"
#include "agent/core/timeutil.h"

namespace pgbackup {
namespace {

// One JSON object per line, so log shippers need no parsing rules.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    nlohmann::json j = {{"ts", format_iso8601(msg.time)},
                        {"ts_ms", ms.count()},
                        {"level", spdlog::level::to_string_view(msg.level).data()},
                        {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    const std::string line =
        j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  const auto lvl = spdlog::level::from_str(level == "warn" ? "warning" : level);
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    throw ConfigError("--log.level must be debug, info, warn or error, got \"" + level + "\"");
  }
  auto logger = std::make_shared<spdlog::logger>("pgbackup",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (format == "text") {
    // The journal stamps every line itself; a second timestamp would only widen them.
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        stderr_is_journal() ? "%^%l%$ %v" : "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v",
        spdlog::pattern_time_type::utc));
  } else {
    throw ConfigError("--log.format must be text or json, got \"" + format + "\"");
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

}  // namespace pgbackup
