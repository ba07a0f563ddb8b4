// pgbackup_verify_*: the newest `verify` run (scheduled or by hand) and its last success, from
// state.json (DESIGN §11).
#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

class VerifyCollector : public Collector {
 public:
  std::string name() const override { return "verify"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    add_per_target(
        out, in, "pgbackup_verify_last_success_timestamp_seconds",
        "Finish time of the last verify run that found every backup sound (0: none).",
        MetricType::Gauge, [](const TargetStatus& t) {
          return t.state.verify_last_success ? to_unix_seconds(*t.state.verify_last_success) : 0.0;
        });
    add_per_target(out, in, "pgbackup_verify_last_run_success",
                   "1 if the newest verify run found every backup sound (0 also when none ran).",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return t.state.verify && t.state.verify->success ? 1.0 : 0.0;
                   });
    add_per_target(
        out, in, "pgbackup_verify_last_invalid_files", "Files the newest verify run found invalid.",
        MetricType::Gauge, [](const TargetStatus& t) {
          return t.state.verify ? static_cast<double>(t.state.verify->invalid_files) : 0.0;
        });
  }
};

}  // namespace

std::unique_ptr<Collector> make_verify_collector() { return std::make_unique<VerifyCollector>(); }

}  // namespace pgbackup
