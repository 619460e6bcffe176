// Store: reading models back (list and resolve), as Ollama's ListHandler and GetModel read them.
#include <algorithm>

#include <fmt/format.h>

#include "store/json_util.h"
#include "store/store.h"
#include "store/store_scan.h"

namespace corral::store {

namespace {

std::string lower_ascii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

ModelDetails details_of(const ModelConfig& c) {
  ModelDetails d;
  d.format = c.model_format;
  d.family = c.model_family;
  d.families = c.model_families;
  d.parameter_size = c.model_type;
  d.quantization_level = c.file_type;
  return d;
}

Result<ModelConfig> read_config(const Store& store, const Manifest& m) {
  if (m.config.digest.empty()) return ModelConfig{};
  std::string path = store.blob_path(m.config.digest);
  auto bytes = read_file_bounded(path, kMaxConfigBytes);
  if (!bytes) return bytes.status().with_context("config blob " + m.config.digest.str());
  auto c = ModelConfig::parse(*bytes);
  if (!c) return c.status().with_context("config blob " + m.config.digest.str());
  return c;
}

Result<std::string> read_layer_text(const Store& store, const Layer& l, int64_t limit) {
  auto text = read_file_bounded(store.blob_path(l.digest), limit);
  if (!text) return text.status().with_context(fmt::format("layer {} ({})", l.digest.str(), l.media_type));
  return text;
}

// A weights blob (model, adapter, projector) must exist with the size the manifest gives; a
// shorter file is an interrupted download or a damaged disk, better reported here than as a
// loader error.
Status check_weights_blob(const Store& store, const Layer& l) {
  std::string path = store.blob_path(l.digest);
  CORRAL_ASSIGN_OR_RETURN(FileStat st, stat_path(path));
  if (!st.exists || !st.is_regular) { return Status::errorf("blob {} ({}) is missing", l.digest.str(), l.media_type); }
  if (st.size != l.size) {
    return Status::errorf("blob {} is {} bytes but the manifest says {}", l.digest.str(), st.size, l.size);
  }
  return Status::ok();
}

Status read_messages(std::string_view text, std::vector<Message>* out) {
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Status::error("messages layer is not a JSON array");
  out->clear();  // Ollama decodes each messages layer over the previous one
  for (const nlohmann::json& m : j) {
    if (!m.is_object()) return Status::error("messages layer has a non-object entry");
    Message msg;
    auto role = m.find("role"), content = m.find("content");
    if (role != m.end() && !role->is_null()) {
      if (!role->is_string()) return Status::error("messages layer: role is not a string");
      msg.role = lower_ascii(role->get<std::string>());
    }
    if (content != m.end() && !content->is_null()) {
      if (!content->is_string()) return Status::error("messages layer: content is not a string");
      msg.content = content->get<std::string>();
    }
    out->push_back(std::move(msg));
  }
  return Status::ok();
}

}  // namespace

Result<ListResult> Store::list() const {
  CORRAL_ASSIGN_OR_RETURN(std::vector<detail::ManifestFile> files, detail::scan_manifests(manifests_dir()));
  ListResult out;
  for (const detail::ManifestFile& f : files) {
    // Like Ollama, one bad model is skipped (and reported) rather than failing the whole list.
    auto skip = [&](const Status& st) { out.skipped.push_back(fmt::format("{}: {}", f.name.display(), st.message())); };
    auto bytes = read_file_bounded(f.path, kMaxManifestBytes);
    if (!bytes) {
      skip(bytes.status());
      continue;
    }
    auto m = Manifest::parse(*bytes);
    if (!m) {
      skip(m.status());
      continue;
    }
    auto st = stat_path(f.path);
    if (!st || !st->exists) {
      skip(st ? Status::error("manifest disappeared") : st.status());
      continue;
    }
    auto config = read_config(*this, *m);
    if (!config) {
      skip(config.status());
      continue;
    }
    ListEntry e;
    e.name = f.name;
    e.size = m->total_size();
    e.digest = Sha256::of(*bytes).hex();
    e.modified_at = st->mtime;
    e.details = details_of(*config);
    out.models.push_back(std::move(e));
  }
  std::stable_sort(out.models.begin(), out.models.end(), [](const ListEntry& a, const ListEntry& b) {
    if (a.modified_at != b.modified_at) return a.modified_at > b.modified_at;
    return a.name.full() < b.name.full();
  });
  return out;
}

Result<ResolvedModel> Store::resolve(std::string_view name) const {
  CORRAL_ASSIGN_OR_RETURN(ModelName parsed, ModelName::parse(name));
  return resolve(parsed);
}

Result<ResolvedModel> Store::resolve(const ModelName& name) const {
  CORRAL_ASSIGN_OR_RETURN(ModelName found, find(name));
  auto r = resolve_found(found);
  if (!r) return r.status().with_context("model " + found.display());
  return r;
}

Result<ResolvedModel> Store::resolve_found(const ModelName& name) const {
  ResolvedModel r;
  r.name = name;
  r.manifest_path = manifest_path(name);
  CORRAL_ASSIGN_OR_RETURN(std::string bytes, read_file_bounded(r.manifest_path, kMaxManifestBytes));
  CORRAL_ASSIGN_OR_RETURN(r.manifest, Manifest::parse(bytes));
  CORRAL_ASSIGN_OR_RETURN(FileStat st, stat_path(r.manifest_path));
  r.manifest_digest = Sha256::of(bytes).hex();
  r.modified_at = st.mtime;
  CORRAL_ASSIGN_OR_RETURN(r.config, read_config(*this, r.manifest));
  r.details = details_of(r.config);

  namespace mt = media_type;
  for (const Layer& l : r.manifest.layers) {
    const std::string& t = l.media_type;
    if (t == mt::kModel) {
      CORRAL_RETURN_IF_ERROR(check_weights_blob(*this, l));
      r.model_path = blob_path(l.digest);
      r.details.parent_model = l.from;
    } else if (t == mt::kAdapter || t == mt::kProjector) {
      CORRAL_RETURN_IF_ERROR(check_weights_blob(*this, l));
      (t == mt::kAdapter ? r.adapter_paths : r.projector_paths).push_back(blob_path(l.digest));
    } else if (t == mt::kTemplate || t == mt::kPrompt) {
      CORRAL_ASSIGN_OR_RETURN(r.template_text, read_layer_text(*this, l, kMaxSmallLayerBytes));
    } else if (t == mt::kSystem) {
      CORRAL_ASSIGN_OR_RETURN(r.system, read_layer_text(*this, l, kMaxSmallLayerBytes));
    } else if (t == mt::kParams) {
      CORRAL_ASSIGN_OR_RETURN(std::string text, read_layer_text(*this, l, kMaxSmallLayerBytes));
      nlohmann::json p = nlohmann::json::parse(text, nullptr, false);
      if (p.is_discarded() || !p.is_object()) {
        return Status::errorf("params layer {} is not a JSON object", l.digest.str());
      }
      for (auto it = p.begin(); it != p.end(); ++it) r.params[it.key()] = it.value();
    } else if (t == mt::kMessages) {
      CORRAL_ASSIGN_OR_RETURN(std::string text, read_layer_text(*this, l, kMaxLargeLayerBytes));
      auto st2 = read_messages(text, &r.messages);
      if (!st2) return st2.with_context(l.digest.str());
    } else if (t == mt::kLicense) {
      CORRAL_ASSIGN_OR_RETURN(std::string text, read_layer_text(*this, l, kMaxLargeLayerBytes));
      r.licenses.push_back(std::move(text));
    }
    // Other media types (Ollama's retired "embed", safetensors "tensor" layers) are not used.
  }
  if (r.model_path.empty()) { return Status::errorf("the manifest has no {} layer", mt::kModel); }
  return r;
}

ModelfileSource ResolvedModel::modelfile_source() const {
  ModelfileSource s;
  s.display_name = name.display();
  s.model_path = model_path;
  s.adapter_paths = adapter_paths;
  s.projector_paths = projector_paths;
  s.template_text = template_text;
  s.system = system.value_or("");
  s.parameters = params;
  s.licenses = licenses;
  s.messages = messages;
  return s;
}

}  // namespace corral::store
