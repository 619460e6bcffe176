#include "parsers/tool_call_id.h"

#include <string_view>

namespace corral::parsers {

std::string ToolCallIds::next() {
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string id = "call_";
  for (int i = 0; i < 8; ++i) id += kAlphabet[pick(rng_)];
  return id;
}

}  // namespace corral::parsers
