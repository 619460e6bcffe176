#include "server/request_qos.h"

#include <algorithm>
#include <charconv>

#include "base/quote.h"
#include "server/api_common.h"
#include "server/request_fields.h"

namespace corral::server {
namespace {

// Printable ASCII without spaces: an id a gateway copies from a header or a user name, safe in
// logs and as a label.
bool valid_fairness_id(std::string_view s) {
  return !s.empty() && s.size() <= kMaxFairnessIdBytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

Result<int64_t> parse_ttft_ms(std::string_view v) {
  int64_t ms = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || ms < 1 || ms > kMaxSloTtftMs)
    return Status::errorf("{} must be a whole number of milliseconds from 1 to {}, got {}", kSloTtftHeader,
                          kMaxSloTtftMs, quote_text(clip_for_error(v)));
  return ms;
}

std::string objective_names(const scheduler::FairnessConfig& c) {
  std::string names;
  for (const auto& o : c.objectives) names += (names.empty() ? "" : ", ") + o.name;
  return names;
}

}  // namespace

void RequestQos::apply(scheduler::Job& job) const {
  job.qos = qos;
  if (ttft_ms) job.qos.ttft_deadline = job.created + std::chrono::milliseconds(*ttft_ms);
}

Result<RequestQos> read_request_qos(const http::Request& req, const nlohmann::ordered_json& body,
                                    const scheduler::FairnessConfig& config) {
  RequestQos r;
  if (!req.tenant.empty()) {
    // The key says who is calling; a header cannot claim another tenant's share.
    r.qos.tenant = req.tenant;
  } else if (auto id = req.headers.get(kFairnessIdHeader)) {
    if (!valid_fairness_id(*id))
      return Status::errorf("{} must be 1 to {} printable characters without spaces", kFairnessIdHeader,
                            kMaxFairnessIdBytes);
    r.qos.tenant = std::string(*id);
  }

  if (auto objective = req.headers.get(kObjectiveHeader)) {
    const auto it = std::find_if(config.objectives.begin(), config.objectives.end(),
                                 [&](const scheduler::Objective& o) { return o.name == *objective; });
    if (it == config.objectives.end())
      return Status::errorf("{} {} is not a configured objective (CORRAL_OBJECTIVES: {})", kObjectiveHeader,
                            quote_text(clip_for_error(*objective)), objective_names(config));
    r.qos.priority = it->priority;
    r.qos.priority_class = it->name;
  } else {
    int64_t priority = 0;
    CORRAL_RETURN_IF_ERROR(read_int(body, "priority", &priority));
    if (priority < -scheduler::kMaxAbsPriority || priority > scheduler::kMaxAbsPriority)
      return Status::errorf("priority must be a whole number from {} to {}", -scheduler::kMaxAbsPriority,
                            scheduler::kMaxAbsPriority);
    r.qos.priority = static_cast<int>(priority);
  }

  if (auto slo = req.headers.get(kSloTtftHeader)) { CORRAL_ASSIGN_OR_RETURN(r.ttft_ms, parse_ttft_ms(*slo)); }
  if (find_field(body, "slo_ttft_ms")) {
    int64_t ms = 0;
    CORRAL_RETURN_IF_ERROR(read_int(body, "slo_ttft_ms", &ms));
    if (ms < 1 || ms > kMaxSloTtftMs)
      return Status::errorf("slo_ttft_ms must be a whole number of milliseconds from 1 to {}", kMaxSloTtftMs);
    r.ttft_ms = r.ttft_ms ? std::min(*r.ttft_ms, ms) : ms;
  }
  return r;
}

}  // namespace corral::server
