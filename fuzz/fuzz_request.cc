// Fuzz target: how the server decodes a request body: parse_body (the JSON, object only), the
// keep_alive field and Ollama's "options" object (server/request_options.cc), as the
// /api/generate and /api/chat handlers run them before anything is scheduled. Kept thin on
// purpose: it calls the server's own functions and nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "server/api_common.h"
#include "server/request_options.h"

using namespace corral;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto parsed = server::parse_body(body);
  if (!parsed) return 0;
  const server::ordered_json& j = *parsed;
  fuzz::keep(server::parse_keep_alive_field(j));
  fuzz::keep(server::reject_images(j));
  server::RequestOptions opts;
  if (auto it = j.find("options"); it != j.end()) fuzz::keep(server::apply_options(*it, &opts));
  // The whole body as an options layer too: a Modelfile's params layer is such an object.
  server::RequestOptions opts2;
  fuzz::keep(server::apply_options(nlohmann::json(j), &opts2));
  return 0;
}
