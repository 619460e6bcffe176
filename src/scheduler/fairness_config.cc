#include "scheduler/fairness_config.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace corral::scheduler {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  return s.substr(b);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.push_back(trim(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool name_char(char c, bool allow_at) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || (allow_at && c == '@');
}

// 64 characters: longer than any sensible name, short enough for a label value.
bool valid_name(const std::string& s, bool allow_at) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [&](char c) { return name_char(c, allow_at); });
}

std::string env_value(const char* name) {
  const char* v = std::getenv(name);
  return v ? trim(v) : std::string();
}

}  // namespace

Result<std::vector<Objective>> parse_objectives(const std::string& s) {
  std::vector<Objective> out;
  for (const std::string& entry : split(s)) {
    if (entry.empty()) continue;
    const size_t eq = entry.find('=');
    const std::string name = trim(entry.substr(0, eq));
    if (eq == std::string::npos || !valid_name(name, false))
      return Status::errorf("CORRAL_OBJECTIVES: want name=priority entries (names of [A-Za-z0-9_.-]), got \"{}\"",
                            entry);
    const std::string value = trim(entry.substr(eq + 1));
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end || errno || v < -kMaxAbsPriority || v > kMaxAbsPriority)
      return Status::errorf("CORRAL_OBJECTIVES: the priority of {} must be a whole number from {} to {}", name,
                            -kMaxAbsPriority, kMaxAbsPriority);
    if (std::any_of(out.begin(), out.end(), [&](const Objective& o) { return o.name == name; }))
      return Status::errorf("CORRAL_OBJECTIVES: {} is named twice", name);
    out.push_back({name, static_cast<int>(v)});
  }
  if (out.empty()) return Status::error("CORRAL_OBJECTIVES: no objective given");
  return out;
}

Result<std::vector<std::string>> parse_tenant_names(const std::string& s, const char* what) {
  std::vector<std::string> out;
  for (const std::string& name : split(s)) {
    if (name.empty()) continue;
    if (!valid_name(name, true))
      return Status::errorf("{}: a tenant name is 1 to 64 characters of [A-Za-z0-9_.@-], got \"{}\"", what, name);
    out.push_back(name);
  }
  return out;
}

std::string tenant_label(const FairnessConfig& c, const std::string& tenant) {
  if (tenant.empty()) return "default";
  if (std::find(c.metric_tenants.begin(), c.metric_tenants.end(), tenant) != c.metric_tenants.end()) return tenant;
  return "other";
}

std::string priority_label(const FairnessConfig& c, int priority) {
  for (const Objective& o : c.objectives)
    if (o.priority == priority) return o.name;
  return "other";
}

Result<FairnessConfig> fairness_config_from_env() {
  FairnessConfig c;
  const std::string mode = env_value("CORRAL_FAIRNESS");
  if (mode == "fcfs") c.by_tenant = false;
  else if (!mode.empty() && mode != "tenant")
    return Status::errorf("CORRAL_FAIRNESS={}: want \"tenant\" (the default) or \"fcfs\"", mode);
  const std::string preempt = env_value("CORRAL_PREEMPT");
  if (preempt == "1" || preempt == "true") c.preempt = true;
  else if (!preempt.empty() && preempt != "0" && preempt != "false")
    return Status::errorf("CORRAL_PREEMPT={}: want 1 or 0", preempt);
  const std::string tenant_preempt = env_value("CORRAL_TENANT_PREEMPT");
  if (tenant_preempt == "0" || tenant_preempt == "false") c.tenant_preempt = false;
  else if (!tenant_preempt.empty() && tenant_preempt != "1" && tenant_preempt != "true")
    return Status::errorf("CORRAL_TENANT_PREEMPT={}: want 1 or 0", tenant_preempt);
  if (const std::string o = env_value("CORRAL_OBJECTIVES"); !o.empty()) {
    CORRAL_ASSIGN_OR_RETURN(c.objectives, parse_objectives(o));
  }
  CORRAL_ASSIGN_OR_RETURN(c.metric_tenants, parse_tenant_names(env_value("CORRAL_TENANTS"), "CORRAL_TENANTS"));
  return c;
}

}  // namespace corral::scheduler
