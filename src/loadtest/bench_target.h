// Which server a load test (corral bench, corral tune --host) goes to, and the guard that keeps
// it from hammering a machine by accident: the address comes from --host, else OLLAMA_HOST;
// one taken from the environment must be a loopback address. Sending load to another machine
// takes an explicit --host.
#pragma once

#include <string>

#include "base/status.h"

namespace corral::cli::bench {

struct Target {
  std::string url;        // "http://127.0.0.1:11434", no trailing slash
  std::string host;       // as given ("localhost", "10.0.0.5")
  bool loopback = false;  // every address it resolves to is a loopback address
};

// host_flag: the --host value ("" when not given): the same forms as OLLAMA_HOST.
Result<Target> resolve_target(const std::string& host_flag);

// True when `host` resolves only to loopback addresses (127.0.0.0/8, ::1). 0.0.0.0 and ::
// count: connecting to them reaches this machine.
bool is_loopback_host(const std::string& host);

}  // namespace corral::cli::bench
