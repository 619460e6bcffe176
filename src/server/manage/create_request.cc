// POST /api/create request bodies -> CreateSpec (a Modelfile for store::create_model).
//
// The server never opens a path a request names. As with Ollama, the client resolves files
// itself: it uploads them (HEAD / POST /api/blobs/:digest) and names their digests in "files";
// "from" names a stored model (or a blob). A "path" field is refused, and so is a legacy
// "modelfile" whose FROM looks like a path; both refusals quote nothing the request named, so
// they read the same whether such a file exists or not.
#include <cmath>
#include <utility>
#include "base/quote.h"

#include <fmt/format.h>

#include "server/manage/handlers.h"
#include "store/create.h"
#include "store/digest.h"
#include "store/json_util.h"
#include "store/model_name.h"
#include "store/modelfile_limits.h"
#include "store/parameters.h"
#include "store/store.h"

namespace corral::server {
namespace {

// Ollama's maxCreateFiles: GGUF imports use one or two, safetensors imports one per shard.
constexpr size_t kMaxCreateFiles = 1024;
// A "files" key is a file's name on the client (a label here); PATH_MAX is the most any has.
constexpr size_t kMaxFileNameBytes = 4096;
// Values across all "parameters" (a "stop" list counts each entry): the real ones are ~40 names.
constexpr size_t kMaxParameterValues = 1024;
constexpr size_t kMaxLicenses = 64;
// model/from/renderer/parser/requires/quantize: names and short words.
constexpr size_t kMaxShortStringBytes = 1024;

const char* kPathRefused =
    "\"path\" is not supported: the server reads no file named by a request; send the Modelfile's "
    "text in \"modelfile\", or upload files with POST /api/blobs/:digest and name them in \"files\"";

// The JSON type names a client knows, for "X must be a string, not a number".
const char* type_name(const ordered_json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}

const ordered_json* field(const ordered_json& b, const char* key) {
  auto it = b.find(key);
  return it == b.end() || it->is_null() ? nullptr : &*it;
}

Status get_string(const ordered_json& b, const char* key, size_t max_bytes, std::string* out) {
  const ordered_json* v = field(b, key);
  if (!v) return Status::ok();
  if (!v->is_string()) return Status::errorf("{} must be a string, not {}", key, type_name(*v));
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes)
    return Status::errorf("{} is {} bytes; at most {} bytes are allowed", key, s.size(), max_bytes);
  *out = s;
  return Status::ok();
}

// A parameter value from JSON as the Modelfile would spell it, so it goes through the same
// typed checks (store/parameters.h) as a PARAMETER line.
std::string parameter_text(const std::string& name, const ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // JavaScript clients send every number as a double: 4096.0 is a valid num_ctx.
    const auto* spec = store::find_parameter(name);
    if (spec && spec->type == store::ParamType::kInt && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18)
      return std::to_string(static_cast<int64_t>(d));
    return store::go_format_float(d);
  }
  return {};
}

Status add_parameter_value(const std::string& name, const ordered_json& v, store::Modelfile* mf) {
  if (v.is_object() || v.is_array() || v.is_null())
    return Status::errorf("parameters.{} must be a string, number or boolean, not {}", name, type_name(v));
  return store::add_parameter(&mf->parameters, name, parameter_text(name, v));
}

Status add_parameters(const ordered_json& b, store::Modelfile* mf) {
  const ordered_json* params = field(b, "parameters");
  if (!params) return Status::ok();
  if (!params->is_object()) return Status::errorf("parameters must be an object, not {}", type_name(*params));
  size_t values = 0;
  for (auto it = params->begin(); it != params->end(); ++it) {
    values += it->is_array() ? it->size() : 1;
    if (values > kMaxParameterValues) return Status::errorf("parameters hold more than {} values", kMaxParameterValues);
    if (it.key() == "typical_p") {
      // Ollama's wording: the option still works per request, not as a model default.
      return Status::error(
          "typical_p is deprecated and cannot be set as a model parameter; pass it as a request option instead");
    }
    if (it->is_array()) {
      for (const auto& e : *it) CORRAL_RETURN_IF_ERROR(add_parameter_value(it.key(), e, mf));
    } else {
      CORRAL_RETURN_IF_ERROR(add_parameter_value(it.key(), *it, mf));
    }
  }
  if (std::ssize(store::go_json_encode(mf->parameters)) > store::kMaxSmallLayerBytes)
    return Status::errorf("parameters are larger than {} bytes as JSON", store::kMaxSmallLayerBytes);
  return Status::ok();
}

Status add_messages(const ordered_json& b, store::Modelfile* mf) {
  const ordered_json* msgs = field(b, "messages");
  if (!msgs) return Status::ok();
  if (!msgs->is_array()) return Status::errorf("messages must be an array, not {}", type_name(*msgs));
  if (msgs->size() > store::kMaxModelfileMessages)
    return Status::errorf("messages has {} entries; at most {} are allowed", msgs->size(),
                          store::kMaxModelfileMessages);
  ordered_json encoded = ordered_json::array();
  for (size_t i = 0; i < msgs->size(); ++i) {
    const ordered_json& m = (*msgs)[i];
    if (!m.is_object())
      return Status::errorf("messages[{}] must be an object with a role and content, not {}", i, type_name(m));
    store::Message msg;
    for (const char* key : {"role", "content"}) {
      const ordered_json* v = field(m, key);
      if (v && !v->is_string())
        return Status::errorf("messages[{}].{} must be a string, not {}", i, key, type_name(*v));
    }
    if (const ordered_json* v = field(m, "role")) msg.role = v->get<std::string>();
    if (const ordered_json* v = field(m, "content")) msg.content = v->get<std::string>();
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
      return Status::error("message role must be one of \"system\", \"user\", or \"assistant\"");
    encoded.push_back(ordered_json{{"role", msg.role}, {"content", msg.content}});
    mf->messages.push_back(std::move(msg));
  }
  // The messages layer as store::create_model writes it, read back with kMaxLargeLayerBytes.
  if (const size_t n = store::go_json_encode(encoded).size(); std::cmp_greater(n, store::kMaxLargeLayerBytes))
    return Status::errorf("messages are {} bytes as JSON; at most {} bytes are allowed", n, store::kMaxLargeLayerBytes);
  return Status::ok();
}

Status add_license_text(const std::string& text, store::Modelfile* mf) {
  if (std::ssize(text) > store::kMaxLargeLayerBytes)
    return Status::errorf("license is {} bytes; at most {} bytes are allowed", text.size(), store::kMaxLargeLayerBytes);
  mf->licenses.push_back(text);
  return Status::ok();
}

Status add_licenses(const ordered_json& b, store::Modelfile* mf) {
  const ordered_json* license = field(b, "license");
  if (!license) return Status::ok();
  if (license->is_string()) return add_license_text(license->get<std::string>(), mf);
  if (!license->is_array())
    return Status::errorf("license must be a string or an array of strings, not {}", type_name(*license));
  if (license->size() > kMaxLicenses)
    return Status::errorf("license has {} entries; at most {} are allowed", license->size(), kMaxLicenses);
  for (const auto& l : *license) {
    if (!l.is_string()) return Status::error("license must be a string or an array of strings");
    CORRAL_RETURN_IF_ERROR(add_license_text(l.get<std::string>(), mf));
  }
  return Status::ok();
}

// A FROM that names no file: a blob digest ("@sha256:..", "sha256:..", "sha256-..") or a valid
// model name. Anything else, a path above all, gets kFromPathRefused / a fixed text: nothing the
// request named is quoted, so the answer cannot tell whether such a file exists.
Result<std::string> from_reference(const std::string& from) {
  if (store::looks_like_path(from)) return Status::error(store::kFromPathRefused);
  if (auto d = store::Digest::parse(!from.empty() && from[0] == '@' ? from.substr(1) : from)) return "@" + d->str();
  if (store::ModelName::parse(from)) return from;
  return Status::error("invalid model name");  // Ollama's text for an unparsable "from"
}

// The legacy shape: the Modelfile's text, parsed here. Its FROMs must name models or blobs.
Status parse_legacy(const ordered_json& b, CreateSpec* spec) {
  std::string text;
  CORRAL_RETURN_IF_ERROR(get_string(b, "modelfile", store::kMaxModelfileBytes, &text));
  auto mf = store::parse_modelfile(text);
  if (!mf) return mf.status();
  for (std::string& from : mf->from) {
    auto ref = from_reference(from);
    if (!ref) return ref.status();
    from = std::move(*ref);
  }
  spec->modelfile = std::move(*mf);
  return Status::ok();
}

// Ollama's validateCreateFilePath: a relative name without "..", '\' or ':'.
bool valid_file_name(const std::string& name) {
  if (name.empty() || name == "." || name.size() > kMaxFileNameBytes || name[0] == '/') return false;
  if (name.find_first_of("\\:") != std::string::npos || name.back() == '/') return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view part =
        std::string_view(name).substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

Status add_files(const ordered_json& files, store::Modelfile* mf) {
  if (!files.is_object())
    return Status::errorf("files must be an object mapping file names to blob digests, not {}", type_name(files));
  if (files.empty()) return Status::error("files must map file names to blob digests");
  if (files.size() > kMaxCreateFiles)
    return Status::errorf("too many files: {} exceeds maximum {}", files.size(), kMaxCreateFiles);
  for (auto it = files.begin(); it != files.end(); ++it) {
    // The client's own text, cut short so that the error stays one readable line.
    const std::string shown = it.key().size() <= 80 ? it.key() : it.key().substr(0, 80) + "...";
    if (!valid_file_name(it.key())) return Status::errorf("file path must be relative: {}", quote_text(shown));
    if (!it->is_string())
      return Status::errorf("files[{}] must be a digest string, not {}", quote_text(shown), type_name(*it));
    auto d = store::Digest::parse(it->get<std::string>());
    if (!d) return Status::errorf("invalid digest format for {}", quote_text(shown));
    mf->from.push_back("@" + d->str());
  }
  return Status::ok();
}

}  // namespace

Result<CreateSpec> parse_create_request(const ordered_json& b) {
  // Type checks first, every field, so a wrong type is named whatever else is wrong.
  for (const char* key : {"model", "name", "from", "quantize", "quantization", "template", "system", "modelfile",
                          "renderer", "parser", "requires"}) {
    const ordered_json* v = field(b, key);
    if (v && !v->is_string()) return Status::errorf("{} must be a string, not {}", key, type_name(*v));
  }
  if (field(b, "path")) return Status::error(kPathRefused);

  CreateSpec spec;
  CORRAL_RETURN_IF_ERROR(get_string(b, "model", kMaxShortStringBytes, &spec.name));
  if (spec.name.empty()) CORRAL_RETURN_IF_ERROR(get_string(b, "name", kMaxShortStringBytes, &spec.name));
  if (spec.name.empty()) return Status::error("model is required");
  if (!store::ModelName::parse(spec.name)) return Status::error("invalid model name");
  if (const ordered_json* v = field(b, "stream")) {
    if (!v->is_boolean()) return Status::errorf("stream must be a boolean, not {}", type_name(*v));
    spec.stream = v->get<bool>();
  }
  std::string quantize;
  CORRAL_RETURN_IF_ERROR(get_string(b, "quantize", kMaxShortStringBytes, &quantize));
  if (quantize.empty()) CORRAL_RETURN_IF_ERROR(get_string(b, "quantization", kMaxShortStringBytes, &quantize));
  if (!quantize.empty()) return Status::error("quantization is not supported yet");
  if (const ordered_json* a = field(b, "adapters")) {
    if (!a->is_object())
      return Status::errorf("adapters must be an object mapping file names to blob digests, not {}", type_name(*a));
    if (!a->empty()) return Status::error("adapters are not supported yet");
  }
  const ordered_json* files = field(b, "files");
  if (files && !files->is_object())
    return Status::errorf("files must be an object mapping file names to blob digests, not {}", type_name(*files));

  store::Modelfile& mf = spec.modelfile;
  std::string from;
  CORRAL_RETURN_IF_ERROR(get_string(b, "from", kMaxShortStringBytes, &from));
  if (!from.empty()) {
    CORRAL_ASSIGN_OR_RETURN(std::string ref, from_reference(from));
    mf.from.push_back(std::move(ref));
  } else if (files) {
    CORRAL_RETURN_IF_ERROR(add_files(*files, &mf));
  } else if (field(b, "modelfile")) {
    CORRAL_RETURN_IF_ERROR(parse_legacy(b, &spec));
  } else {
    return Status::error("neither 'from' or 'files' was specified");
  }

  // The JSON fields come on top of a legacy Modelfile's instructions, as later lines would.
  std::string text;
  if (field(b, "template")) {
    CORRAL_RETURN_IF_ERROR(get_string(b, "template", store::kMaxSmallLayerBytes, &text));
    mf.template_text = text;
  }
  if (field(b, "system")) {
    CORRAL_RETURN_IF_ERROR(get_string(b, "system", store::kMaxSmallLayerBytes, &text));
    mf.system = text;
  }
  std::string renderer, parser, requires_version;
  CORRAL_RETURN_IF_ERROR(get_string(b, "renderer", kMaxShortStringBytes, &renderer));
  CORRAL_RETURN_IF_ERROR(get_string(b, "parser", kMaxShortStringBytes, &parser));
  CORRAL_RETURN_IF_ERROR(get_string(b, "requires", kMaxShortStringBytes, &requires_version));
  if (!renderer.empty()) mf.renderer = renderer;
  if (!parser.empty()) mf.parser = parser;
  if (!requires_version.empty())
    mf.requires_version = requires_version[0] == 'v' ? requires_version.substr(1) : requires_version;
  CORRAL_RETURN_IF_ERROR(add_licenses(b, &mf));
  CORRAL_RETURN_IF_ERROR(add_parameters(b, &mf));
  CORRAL_RETURN_IF_ERROR(add_messages(b, &mf));
  if (mf.messages.size() > store::kMaxModelfileMessages)
    return Status::errorf("more than {} messages", store::kMaxModelfileMessages);
  return spec;
}

}  // namespace corral::server
