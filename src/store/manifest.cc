#include "store/manifest.h"

#include <fmt/format.h>

#include "store/json_util.h"

namespace corral::store {

namespace {

using Json = nlohmann::ordered_json;

// Reads an optional string member; a non-string value is an error.
Status get_string(const Json& obj, const char* key, std::string* out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::ok();
  if (!it->is_string()) return Status::errorf("{}.{} is not a string", where, key);
  *out = it->get<std::string>();
  return Status::ok();
}

Status get_string_array(const Json& obj, const char* key, std::vector<std::string>* out, bool* was_null,
                        const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (was_null) *was_null = true;
    return Status::ok();
  }
  if (!it->is_array()) return Status::errorf("{}.{} is not an array", where, key);
  if (it->size() > kMaxLayers) return Status::errorf("{}.{} has too many entries", where, key);
  for (const Json& e : *it) {
    if (!e.is_string()) return Status::errorf("{}.{} has a non-string entry", where, key);
    out->push_back(e.get<std::string>());
  }
  return Status::ok();
}

Result<Layer> parse_layer(const Json& j, const std::string& where, bool digest_optional) {
  if (!j.is_object()) return Status::errorf("{} is not an object", where);
  Layer l;
  CORRAL_RETURN_IF_ERROR(get_string(j, "mediaType", &l.media_type, where));
  std::string digest;
  CORRAL_RETURN_IF_ERROR(get_string(j, "digest", &digest, where));
  if (!digest.empty() || !digest_optional) {
    auto d = Digest::parse(digest);
    if (!d) return d.status().with_context(where + ".digest");
    l.digest = *d;
  }
  if (auto it = j.find("size"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return Status::errorf("{}.size is not a non-negative integer", where);
    }
    l.size = it->get<int64_t>();
  }
  CORRAL_RETURN_IF_ERROR(get_string(j, "from", &l.from, where));
  return l;
}

Json layer_json(const Layer& l) {
  Json j = Json::object();
  j["mediaType"] = l.media_type;
  j["digest"] = l.digest.empty() ? std::string() : l.digest.str();
  j["size"] = l.size;
  if (!l.from.empty()) j["from"] = l.from;  // omitempty
  return j;
}

}  // namespace

int64_t Manifest::total_size() const {
  int64_t total = config.size;
  for (const Layer& l : layers) total += l.size;
  return total;
}

std::vector<Digest> Manifest::digests() const {
  std::vector<Digest> out;
  if (!config.digest.empty()) out.push_back(config.digest);
  for (const Layer& l : layers) out.push_back(l.digest);
  return out;
}

Result<Manifest> Manifest::parse(std::string_view json) {
  if (static_cast<int64_t>(json.size()) > kMaxManifestBytes) {
    return Status::errorf("manifest is {} bytes (limit {})", json.size(), kMaxManifestBytes);
  }
  CORRAL_ASSIGN_OR_RETURN(Json j, parse_json(json, "manifest"));
  if (!j.is_object()) return Status::error("manifest is not a JSON object");
  Manifest m;
  if (auto it = j.find("schemaVersion"); it != j.end()) {
    if (!it->is_number_integer()) return Status::error("manifest schemaVersion is not an integer");
    m.schema_version = it->get<int>();
  }
  m.media_type.clear();
  CORRAL_RETURN_IF_ERROR(get_string(j, "mediaType", &m.media_type, "manifest"));
  if (auto it = j.find("config"); it != j.end() && !it->is_null()) {
    CORRAL_ASSIGN_OR_RETURN(m.config, parse_layer(*it, "manifest config", true));
  }
  if (auto it = j.find("layers"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Status::error("manifest layers is not an array");
    if (it->size() > kMaxLayers) { return Status::errorf("manifest has {} layers (limit {})", it->size(), kMaxLayers); }
    for (size_t i = 0; i < it->size(); ++i) {
      CORRAL_ASSIGN_OR_RETURN(Layer l, parse_layer((*it)[i], fmt::format("manifest layers[{}]", i), false));
      m.layers.push_back(std::move(l));
    }
  }
  return m;
}

std::string Manifest::to_json() const {
  Json j = Json::object();
  j["schemaVersion"] = schema_version;
  j["mediaType"] = media_type;
  j["config"] = layer_json(config);
  Json layers_json = Json::array();
  for (const Layer& l : layers) layers_json.push_back(layer_json(l));
  j["layers"] = std::move(layers_json);
  return go_json_encode(j);
}

Result<ModelConfig> ModelConfig::parse(std::string_view json) {
  if (static_cast<int64_t>(json.size()) > kMaxConfigBytes) {
    return Status::errorf("config is {} bytes (limit {})", json.size(), kMaxConfigBytes);
  }
  CORRAL_ASSIGN_OR_RETURN(Json j, parse_json(json, "model config"));
  if (!j.is_object()) return Status::error("model config is not a JSON object");
  const std::string w = "config";
  ModelConfig c;
  c.architecture.clear();
  c.os.clear();
  c.rootfs_type.clear();
  CORRAL_RETURN_IF_ERROR(get_string(j, "model_format", &c.model_format, w));
  CORRAL_RETURN_IF_ERROR(get_string(j, "model_family", &c.model_family, w));
  CORRAL_RETURN_IF_ERROR(get_string_array(j, "model_families", &c.model_families, &c.model_families_null, w));
  CORRAL_RETURN_IF_ERROR(get_string(j, "model_type", &c.model_type, w));
  CORRAL_RETURN_IF_ERROR(get_string(j, "file_type", &c.file_type, w));
  CORRAL_RETURN_IF_ERROR(get_string(j, "renderer", &c.renderer, w));
  CORRAL_RETURN_IF_ERROR(get_string(j, "parser", &c.parser, w));
  CORRAL_RETURN_IF_ERROR(get_string(j, "requires", &c.requires_version, w));
  CORRAL_RETURN_IF_ERROR(get_string(j, "architecture", &c.architecture, w));
  CORRAL_RETURN_IF_ERROR(get_string(j, "os", &c.os, w));
  if (auto it = j.find("rootfs"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Status::error("config.rootfs is not an object");
    CORRAL_RETURN_IF_ERROR(get_string(*it, "type", &c.rootfs_type, "config.rootfs"));
    CORRAL_RETURN_IF_ERROR(get_string_array(*it, "diff_ids", &c.diff_ids, nullptr, "config.rootfs"));
  }
  return c;
}

std::string ModelConfig::to_json() const {
  auto array_or_null = [](const std::vector<std::string>& v, bool null_when_empty) {
    return v.empty() && null_when_empty ? Json(nullptr) : Json(v);
  };
  Json j = Json::object();
  j["model_format"] = model_format;
  j["model_family"] = model_family;
  j["model_families"] = array_or_null(model_families, model_families_null);
  j["model_type"] = model_type;
  j["file_type"] = file_type;
  if (!renderer.empty()) j["renderer"] = renderer;
  if (!parser.empty()) j["parser"] = parser;
  if (!requires_version.empty()) j["requires"] = requires_version;
  j["architecture"] = architecture;
  j["os"] = os;
  Json rootfs = Json::object();
  rootfs["type"] = rootfs_type;
  rootfs["diff_ids"] = diff_ids;
  j["rootfs"] = std::move(rootfs);
  return go_json_encode(j);
}

}  // namespace corral::store
