// Reading streamed response bodies in the server tests: Ollama's NDJSON records, the data
// objects of server-sent events (OpenAI's chat stream ends with "[DONE]"), and named events
// ("event:" + "data:" lines, as Anthropic's and the Responses API's streams send them).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace corral::testing {

// Each JSON line of an NDJSON body, or each "data: {...}" of an event stream ("[DONE]" skipped).
inline std::vector<nlohmann::json> stream_records(const std::string& body) {
  std::vector<nlohmann::json> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("data: ", 0) == 0) line = line.substr(6);
    if (line.empty() || line == "[DONE]") continue;
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// One server-sent event: its "event:" name ("" when it has none) and its data.
struct SseEvent {
  std::string name;
  nlohmann::json data;
};

inline std::vector<SseEvent> sse_events(const std::string& body) {
  std::vector<SseEvent> out;
  std::string name;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("event: ", 0) == 0) name = line.substr(7);
    if (line.rfind("data: ", 0) == 0) {
      out.push_back({name, nlohmann::json::parse(line.substr(6))});
      name.clear();
    }
  }
  return out;
}

}  // namespace corral::testing
