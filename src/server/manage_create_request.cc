// POST /api/create request bodies -> CreateSpec (a Modelfile for store::create_model).
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "server/manage_handlers.h"
#include "store/digest.h"
#include "store/file_io.h"
#include "store/json_util.h"
#include "store/model_name.h"
#include "store/parameters.h"

namespace corral::server {
namespace {

// A legacy request may name a Modelfile on the server by path; larger is not a Modelfile.
constexpr int64_t kMaxModelfileBytes = 4 << 20;

Status get_string(const ordered_json& b, const char* key, std::string* out) {
  auto it = b.find(key);
  if (it == b.end() || it->is_null()) return Status::ok();
  if (!it->is_string()) return Status::errorf("{} must be a string", key);
  *out = it->get<std::string>();
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
    if (spec && spec->type == store::ParamType::kInt && std::isfinite(d) && d == std::floor(d) &&
        std::fabs(d) < 9.2e18)
      return std::to_string(static_cast<int64_t>(d));
    return store::go_format_float(d);
  }
  return v.dump();  // an object or null: rejected by the typed check with this text
}

Status add_parameters(const ordered_json& params, store::Modelfile* mf) {
  if (params.is_null()) return Status::ok();
  if (!params.is_object()) return Status::error("parameters must be an object");
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (it.key() == "typical_p") {
      // Ollama's wording: the option still works per request, not as a model default.
      return Status::error("typical_p is deprecated and cannot be set as a model parameter; pass it as a request option instead");
    }
    if (it->is_array()) {
      for (const auto& e : *it) CORRAL_RETURN_IF_ERROR(store::add_parameter(&mf->parameters, it.key(), parameter_text(it.key(), e)));
    } else {
      CORRAL_RETURN_IF_ERROR(store::add_parameter(&mf->parameters, it.key(), parameter_text(it.key(), *it)));
    }
  }
  return Status::ok();
}

Status add_messages(const ordered_json& msgs, store::Modelfile* mf) {
  if (msgs.is_null()) return Status::ok();
  if (!msgs.is_array()) return Status::error("messages must be an array");
  for (const auto& m : msgs) {
    if (!m.is_object()) return Status::error("each message must be an object with a role and content");
    store::Message msg;
    CORRAL_RETURN_IF_ERROR(get_string(m, "role", &msg.role));
    CORRAL_RETURN_IF_ERROR(get_string(m, "content", &msg.content));
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
      return Status::error("message role must be one of \"system\", \"user\", or \"assistant\"");
    mf->messages.push_back(std::move(msg));
  }
  return Status::ok();
}

Status add_licenses(const ordered_json& license, store::Modelfile* mf) {
  if (license.is_null()) return Status::ok();
  if (license.is_string()) {
    mf->licenses.push_back(license.get<std::string>());
    return Status::ok();
  }
  if (!license.is_array()) return Status::error("license must be a string or an array of strings");
  for (const auto& l : license) {
    if (!l.is_string()) return Status::error("license must be a string or an array of strings");
    mf->licenses.push_back(l.get<std::string>());
  }
  return Status::ok();
}

// The legacy shape: the Modelfile's text (or its path on the server), parsed here.
Result<CreateSpec> parse_legacy(const ordered_json& b, CreateSpec spec) {
  std::string text, path;
  CORRAL_RETURN_IF_ERROR(get_string(b, "modelfile", &text));
  CORRAL_RETURN_IF_ERROR(get_string(b, "path", &path));
  if (text.empty() && !path.empty()) {
    auto bytes = store::read_file_bounded(path, kMaxModelfileBytes);
    if (!bytes) return Status::errorf("error reading modelfile: {}", bytes.error());
    text = std::move(*bytes);
  }
  auto mf = store::parse_modelfile(text);
  if (!mf) return mf.status();
  spec.modelfile = std::move(*mf);
  // Relative FROM paths are relative to the Modelfile, as `ollama create` resolves them.
  spec.base_dir = path.empty() ? "." : std::filesystem::path(path).parent_path().string();
  if (spec.base_dir.empty()) spec.base_dir = ".";
  return spec;
}

}  // namespace

Result<CreateSpec> parse_create_request(const ordered_json& b, const std::string& blobs_dir) {
  CreateSpec spec;
  CORRAL_RETURN_IF_ERROR(get_string(b, "model", &spec.name));
  if (spec.name.empty()) CORRAL_RETURN_IF_ERROR(get_string(b, "name", &spec.name));
  if (spec.name.empty()) return Status::error("model is required");
  if (!store::ModelName::parse(spec.name)) return Status::error("invalid model name");
  if (auto it = b.find("stream"); it != b.end() && !it->is_null()) {
    if (!it->is_boolean()) return Status::error("stream must be a boolean");
    spec.stream = it->get<bool>();
  }
  std::string quantize;
  CORRAL_RETURN_IF_ERROR(get_string(b, "quantize", &quantize));
  if (quantize.empty()) CORRAL_RETURN_IF_ERROR(get_string(b, "quantization", &quantize));
  if (!quantize.empty()) return Status::error("quantization is not supported yet");
  if (auto it = b.find("adapters"); it != b.end() && !it->is_null() && !it->empty())
    return Status::error("adapters are not supported yet");

  if (b.contains("modelfile") || b.contains("path")) return parse_legacy(b, std::move(spec));

  store::Modelfile& mf = spec.modelfile;
  std::string from;
  CORRAL_RETURN_IF_ERROR(get_string(b, "from", &from));
  if (!from.empty()) {
    // A blob digest, also spelled as a Modelfile's "FROM @sha256:..." line.
    if (auto d = store::Digest::parse(from[0] == '@' ? from.substr(1) : from)) {
      mf.from.push_back("@" + d->str());
    } else if (store::ModelName::parse(from)) {
      mf.from.push_back(from);
    } else {
      return Status::error("invalid model name");  // Ollama's text for an unparsable "from"
    }
  } else if (auto files = b.find("files"); files != b.end() && !files->is_null()) {
    if (!files->is_object() || files->empty()) return Status::error("files must map file names to blob digests");
    for (auto it = files->begin(); it != files->end(); ++it) {
      if (!it->is_string()) return Status::errorf("files[{:?}] must be a digest string", it.key());
      auto d = store::Digest::parse(it->get<std::string>());
      if (!d) return Status::errorf("invalid digest format for {}: {}", it.key(), d.error());
      mf.from.push_back("@" + d->str());
    }
  } else {
    return Status::error("neither 'from' or 'files' was specified");
  }
  // Never a path: "from" is a name or a digest, and a name must not match a file anywhere.
  spec.base_dir = blobs_dir;

  std::string text;
  if (b.contains("template") && !b["template"].is_null()) {
    CORRAL_RETURN_IF_ERROR(get_string(b, "template", &text));
    mf.template_text = text;
  }
  if (b.contains("system") && !b["system"].is_null()) {
    CORRAL_RETURN_IF_ERROR(get_string(b, "system", &text));
    mf.system = text;
  }
  CORRAL_RETURN_IF_ERROR(get_string(b, "renderer", &mf.renderer));
  CORRAL_RETURN_IF_ERROR(get_string(b, "parser", &mf.parser));
  CORRAL_RETURN_IF_ERROR(get_string(b, "requires", &mf.requires_version));
  if (!mf.requires_version.empty() && mf.requires_version[0] == 'v') mf.requires_version.erase(0, 1);
  CORRAL_RETURN_IF_ERROR(add_licenses(b.value("license", ordered_json()), &mf));
  CORRAL_RETURN_IF_ERROR(add_parameters(b.value("parameters", ordered_json()), &mf));
  CORRAL_RETURN_IF_ERROR(add_messages(b.value("messages", ordered_json()), &mf));
  return spec;
}

}  // namespace corral::server
