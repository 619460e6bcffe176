// GET /metrics: the scheduler's metrics (serving_metrics.h) plus the HTTP server's own, in the
// Prometheus text format.
#include "base/metrics.h"
#include "server/routes.h"

namespace corral::server {

void register_metrics_routes(http::Server& http, ApiContext& ctx) {
  metrics::Gauge& connections =
      ctx.scheduler.metrics().registry().gauge("corral:http_connections", "Open HTTP connections.").with({});
  http.route("GET", "/metrics", [&ctx, &http, &connections](http::Request&&, std::shared_ptr<http::ResponseWriter> w) {
    connections.set(static_cast<double>(http.connection_count()));
    w->respond(200, metrics::kContentType, ctx.scheduler.render_metrics());
  });
}

}  // namespace corral::server
