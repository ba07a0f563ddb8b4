#include "agent/core/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "agent/core/file_io.h"
#include "agent/core/units.h"

namespace pgbackup {
namespace {

std::string amount(std::uint64_t n, ProgressUnit unit) {
  return unit == ProgressUnit::bytes ? format_bytes(n) : std::to_string(n);
}

// "12 MiB of ~1.2 GiB", "120 of 450 items (26%)", "37 items".
std::string done_text(const ProgressState& s) {
  const char* items = s.unit == ProgressUnit::items ? " items" : "";
  if (!s.total) return amount(s.done, s.unit) + items;
  std::string out = amount(s.done, s.unit) + " of " + (s.total_is_estimate ? "~" : "") +
                    amount(*s.total, s.unit) + items;
  if (!s.total_is_estimate && *s.total > 0) {
    const double share = std::min(1.0, static_cast<double>(s.done) / *s.total);
    out += " (" + std::to_string(static_cast<int>(std::floor(share * 100))) + "%)";
  }
  return out;
}

std::string cut(std::string text, std::size_t width) {
  if (width == 0 || text.size() <= width) return text;
  if (width <= 3) return text.substr(0, width);
  return text.substr(0, width - 3) + "...";
}

}  // namespace

std::string format_progress(const ProgressState& s, std::size_t width) {
  std::string head = s.task + ": " + done_text(s);
  std::string tail;
  const auto seconds = static_cast<std::int64_t>(s.elapsed.count());
  if (s.unit == ProgressUnit::bytes && s.elapsed.count() >= 1) {
    const double rate = static_cast<double>(s.done) / s.elapsed.count();
    tail += ", " + format_bytes(static_cast<std::uint64_t>(rate)) + "/s";
  }
  tail += ", " + format_duration(std::chrono::seconds(seconds));
  if (s.current.empty()) return cut(head + tail, width);
  // The current item goes first when there is no room: it changes too fast to read anyway.
  const std::string full = head + ", " + s.current + tail;
  if (width == 0 || full.size() <= width) return full;
  const std::size_t fixed = head.size() + tail.size() + 2;
  if (fixed + 6 > width) return cut(head + tail, width);
  return head + ", " + cut(s.current, width - fixed) + tail;
}

ProgressLine::ProgressLine(Progress* progress, const std::string& task, ProgressUnit unit,
                           std::optional<std::uint64_t> total, bool estimate)
    : progress_(progress) {
  if (progress_) progress_->start(task, unit, total, estimate);
}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::finish() {
  if (progress_) progress_->finish();
  progress_ = nullptr;
}

void ProgressLine::update(std::uint64_t done, std::string_view current) {
  done_ = done;
  if (progress_) progress_->update(done, current);
}

void ProgressLine::add(std::uint64_t n, std::string_view current) { update(done_ + n, current); }

TerminalProgress::TerminalProgress(Write write, const Clock& clock, std::size_t width,
                                   std::chrono::milliseconds interval)
    : write_(std::move(write)), clock_(clock), width_(width), interval_(interval) {}

void TerminalProgress::start(const std::string& task, ProgressUnit unit,
                             std::optional<std::uint64_t> total, bool estimate) {
  const std::lock_guard<std::mutex> lock(mu_);
  state_ = ProgressState{task, unit, 0, total, estimate, "", {}};
  started_ = clock_.steady_now();
  last_draw_.reset();
  active_ = true;
  changed_ = false;
}

void TerminalProgress::update(std::uint64_t done, std::string_view current) {
  const std::lock_guard<std::mutex> lock(mu_);
  if (!active_) return;
  state_.done = done;
  if (!current.empty()) state_.current = std::string(current);
  changed_ = true;
  if (!on_screen_ || clock_.steady_now() - *last_draw_ >= interval_) draw();
}

void TerminalProgress::finish() {
  const std::lock_guard<std::mutex> lock(mu_);
  if (!active_) return;
  active_ = false;
  if (!last_draw_) return;  // never updated: nothing on the screen to end
  if (changed_ || !on_screen_) draw();
  write_("\n");
  on_screen_ = false;
}

void TerminalProgress::clear() {
  const std::lock_guard<std::mutex> lock(mu_);
  if (!on_screen_) return;
  write_("\r\x1b[K");
  on_screen_ = false;
}

void TerminalProgress::draw() {
  const SteadyTime now = clock_.steady_now();
  state_.elapsed = now - started_;
  // One column short of the width: a line that fills it wraps on some terminals, and "\r"
  // then rewrites only the last row.
  write_("\r" + format_progress(state_, width_ > 1 ? width_ - 1 : 0) + "\x1b[K");
  last_draw_ = now;
  on_screen_ = true;
  changed_ = false;
}

namespace {

// The log's sink, behind one that first takes the progress line off its row: the message then
// starts at the first column, and the next update draws the line again below it.
class LineClearingSink final : public spdlog::sinks::sink {
 public:
  LineClearingSink(spdlog::sink_ptr inner, std::shared_ptr<TerminalProgress> progress)
      : inner_(std::move(inner)), progress_(std::move(progress)) {}
  void log(const spdlog::details::log_msg& msg) override {
    progress_->clear();
    inner_->log(msg);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  spdlog::sink_ptr inner_;
  std::shared_ptr<TerminalProgress> progress_;
};

}  // namespace

std::shared_ptr<Progress> progress_on_stderr(const std::string& log_format, const Clock& clock) {
  if (log_format != "text" || !::isatty(STDERR_FILENO)) return nullptr;
  winsize size{};
  const std::size_t width =
      ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
  // A closed terminal is ignored: progress is not worth failing a job for.
  const auto write = [](std::string_view text) { write_all(STDERR_FILENO, text); };
  auto progress = std::make_shared<TerminalProgress>(write, clock, width);
  for (spdlog::sink_ptr& sink : spdlog::default_logger()->sinks()) {
    sink = std::make_shared<LineClearingSink>(sink, progress);
  }
  return progress;
}

}  // namespace pgbackup
