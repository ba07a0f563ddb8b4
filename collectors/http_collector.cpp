// pgbackup_http_connections_refused_total: connections the HTTP server closed unserved.
#include "agent/web/http_server.h"
#include "collectors/collector.h"

namespace pgbackup {
namespace {

class HttpCollector : public Collector {
 public:
  std::string name() const override { return "http"; }

  void collect(const ScrapeInput& input,
               std::vector<prometheus::MetricFamily>& out) const override {
    if (!input.http_connections_refused) return;
    FamilyBuilder refused("pgbackup_http_connections_refused_total",
                          "Connections closed unserved because their client address held as many "
                          "as one address may (" +
                              std::to_string(HttpServer::kConnectionsPerAddress) +
                              "); the log names the address.",
                          prometheus::MetricType::Counter);
    refused.add(static_cast<double>(*input.http_connections_refused));
    out.push_back(refused.build());
  }
};

}  // namespace

std::unique_ptr<Collector> make_http_collector() { return std::make_unique<HttpCollector>(); }

}  // namespace pgbackup
