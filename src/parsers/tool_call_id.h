// OpenAI-style tool call ids, made the way Ollama makes them: "call_" and 8 characters from
// [a-z0-9]. The parsers do not assign ids (Ollama's api.ToolCall has none); the OpenAI and
// Anthropic handlers draw one per call from a generator seeded per request (the request's seed
// when it has one, so seeded responses are reproducible).
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace corral::parsers {

class ToolCallIds {
 public:
  explicit ToolCallIds(std::uint64_t seed) : rng_(seed) {}
  std::string next();

 private:
  std::mt19937_64 rng_;
};

}  // namespace corral::parsers
