#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/clock.h"

namespace pgbackup {

// Progress of a long step (a dump, a restore, an upload, a checksum) for a person at a terminal.
// Jobs report through the Progress in their JobContext; only a one-shot command whose stderr is a
// terminal passes one (a TerminalProgress), the daemon and every other run pass none, so jobs
// never know about terminals.

enum class ProgressUnit { bytes, items };

// What one progress line shows.
struct ProgressState {
  std::string task;  // "backup pnode-pulse", "restore pnode_20261206_020000.dump"
  ProgressUnit unit = ProgressUnit::bytes;
  std::uint64_t done = 0;
  std::optional<std::uint64_t> total;  // nullopt: unknown
  bool total_is_estimate = false;      // "of ~1.2 GiB" and no percentage
  std::string current;                 // what is being worked on ("public.nodes"), may be empty
  std::chrono::duration<double> elapsed{0};
};

// "backup pnode-pulse: 12.0 MiB of ~1.2 GiB, 3.0 MiB/s, 4s",
// "restore p.dump: 120 of 450 items (26%), public.node_metrics, 1m5s": cut to fit in `width`
// columns (the current item first), no limit when 0. Pure.
std::string format_progress(const ProgressState& state, std::size_t width);

// Where jobs report progress.
class Progress {
 public:
  virtual ~Progress() = default;
  // A new line for `task`: `total` of `unit` to do (nullopt: unknown; `estimate`: a guess).
  virtual void start(const std::string& task, ProgressUnit unit, std::optional<std::uint64_t> total,
                     bool estimate) = 0;
  // How much is done now and what is being worked on (empty: as before). Cheap: called for
  // every chunk of a dump.
  virtual void update(std::uint64_t done, std::string_view current) = 0;
  // Ends the line (nothing when nothing was shown).
  virtual void finish() = 0;
};

// One step's line: started when built, finished when destroyed (also when the step throws, so
// the error starts on a line of its own). Does nothing without a Progress.
class ProgressLine {
 public:
  ProgressLine(Progress* progress, const std::string& task, ProgressUnit unit,
               std::optional<std::uint64_t> total = std::nullopt, bool estimate = false);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void update(std::uint64_t done, std::string_view current = {});
  // Adds `n` to what is done.
  void add(std::uint64_t n, std::string_view current = {});
  // Ends the line now, before the step's other work (updates after it show nothing).
  void finish();
  std::uint64_t done() const { return done_; }

 private:
  Progress* progress_;
  std::uint64_t done_ = 0;
};

// Draws the line on a terminal: "\r", the line, then "\x1b[K" (erasing what a longer line left).
// The first update draws at once, later ones at most once per `interval`; finish() draws the
// last state and ends the line; clear() takes it off the row for a log message, and the next
// update draws it again. Thread-safe.
class TerminalProgress final : public Progress {
 public:
  using Write = std::function<void(std::string_view)>;
  TerminalProgress(Write write, const Clock& clock, std::size_t width,
                   std::chrono::milliseconds interval = std::chrono::milliseconds(100));

  void start(const std::string& task, ProgressUnit unit, std::optional<std::uint64_t> total,
             bool estimate) override;
  void update(std::uint64_t done, std::string_view current) override;
  void finish() override;
  void clear();

 private:
  void draw();  // with mu_ held

  Write write_;
  const Clock& clock_;
  std::size_t width_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  ProgressState state_;
  SteadyTime started_{};
  std::optional<SteadyTime> last_draw_;  // nullopt: nothing drawn for this line
  bool active_ = false;
  bool on_screen_ = false;  // drawn and not cleared since
  bool changed_ = false;    // updated since the last draw
};

// A TerminalProgress on stderr when stderr is a terminal and the log is text, else null (a
// pipe, a file, the journal, --log.format json). It also routes the log (setup_logging's) through
// it, so that a log message never lands in the middle of the progress line.
std::shared_ptr<Progress> progress_on_stderr(const std::string& log_format, const Clock& clock);

}  // namespace pgbackup
