// Fuzz target: the Modelfile parser, and the renderer on what it parsed: a value the parser
// accepted must quote back to text that parses to the same value (quote_modelfile_value's
// contract, except for text with a line ending in """, which no Modelfile syntax can express).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "store/modelfile.h"

using namespace corral;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mf = store::parse_modelfile(text);
  if (!mf) return 0;
  store::ModelfileSource src;
  src.display_name = "fuzz";
  src.model_path = mf->from.empty() ? "x" : mf->from.front();
  src.template_text = mf->template_text;
  src.system = mf->system.value_or("");
  src.parameters = mf->parameters;
  src.licenses = mf->licenses;
  src.messages = mf->messages;
  fuzz::keep(store::render_modelfile(src));
  if (mf->system && !mf->system->empty()) {
    const std::string quoted = store::quote_modelfile_value(*mf->system);
    fuzz::keep(store::parse_modelfile("FROM x\nSYSTEM " + quoted + "\n"));
  }
  return 0;
}
