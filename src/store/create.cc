#include "store/create.h"

#include <pwd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gguf/gguf_file.h"
#include "store/gguf_info.h"
#include "store/json_util.h"

namespace corral::store {

namespace {

namespace mt = media_type;
namespace fs = std::filesystem;

struct BuiltLayer {
  Layer layer;
  std::string status;
  std::optional<GgufSummary> gguf;
};

class Creator {
 public:
  Creator(const Store& store, const CreateOptions& options) : store_(store), opts_(options) {}

  Result<ModelName> run(std::string_view name, const Modelfile& mf) {
    report("parsing modelfile");
    CORRAL_ASSIGN_OR_RETURN(ModelName parsed, ModelName::parse(name));
    if (mf.from.empty()) return Status::error("no FROM line");

    std::optional<DirLock> lock;
    {
      CORRAL_ASSIGN_OR_RETURN(DirLock l, store_.lock_shared());
      lock.emplace(std::move(l));
    }
    ModelName target = store_.spelling_for_write(parsed);
    std::vector<Digest> old_digests;
    if (auto old = store_.read_manifest(target)) old_digests = old->digests();

    Status st = build(mf);
    Manifest manifest;
    if (st) st = finish(mf, &manifest);
    if (st) {
      for (const BuiltLayer& b : layers_) {
        if (!b.status.empty()) report(b.status);
      }
      report("writing manifest");
      st = store_.write_manifest(target, manifest, Store::Locking::kAlreadyLocked);
    }
    lock.reset();  // collection needs the exclusive lock

    // Candidates: what the replaced manifest used, and what this call wrote. Whatever the new
    // manifest (or any other) references survives; collect_garbage checks every manifest.
    std::vector<Digest> candidates = created_;
    if (st) candidates.insert(candidates.end(), old_digests.begin(), old_digests.end());
    auto gc = store_.collect_garbage(candidates);
    if (!st) return st;
    if (!gc) return gc.status().with_context("model created, but cleaning up old layers failed");
    report("success");
    return target;
  }

 private:
  void report(std::string status, int64_t completed = 0, int64_t total = 0) {
    if (opts_.progress) opts_.progress(Progress{std::move(status), "", total, completed});
  }

  Result<BlobWrite> put_bytes(std::string_view bytes) {
    CORRAL_ASSIGN_OR_RETURN(BlobWrite w, store_.write_blob_bytes(bytes));
    if (w.created) created_.push_back(w.digest);
    return w;
  }

  static std::string layer_status(const BlobWrite& w) {
    return fmt::format("{} {}", w.created ? "creating new layer" : "using existing layer", w.digest.str());
  }

  Status add_bytes_layer(std::string_view media, std::string_view bytes) {
    CORRAL_ASSIGN_OR_RETURN(BlobWrite w, put_bytes(bytes));
    BuiltLayer b;
    b.layer = Layer{std::string(media), w.digest, w.size, ""};
    b.status = layer_status(w);
    layers_.push_back(std::move(b));
    return Status::ok();
  }

  void drop_layers(std::initializer_list<std::string_view> media) {
    std::erase_if(layers_, [&](const BuiltLayer& b) {
      return std::find(media.begin(), media.end(), b.layer.media_type) != media.end();
    });
  }

  Status build(const Modelfile& mf) {
    for (size_t i = 0; i < mf.from.size(); ++i) {
      const std::string& from = mf.from[i];
      // Never opened, never quoted: the same error whether such a file exists or not.
      if (!opts_.allow_file_paths && looks_like_path(from)) return Status::error(kFromPathRefused);
      Status st = add_from(from, i == 0);
      if (!st) return st.with_context("FROM " + from);
    }
    return Status::ok();
  }

  Status add_from(const std::string& from, bool first) {
    if (from.empty()) return Status::error("FROM needs a value");
    if (from[0] == '@') {
      auto d = Digest::parse(std::string_view(from).substr(1));
      if (!d) return d.status();
      return add_gguf_blob(*d, false);
    }
    if (!opts_.allow_file_paths) return add_digest_or_model(from, first);
    std::string path = expand_from_path(from, opts_.base_dir);
    CORRAL_ASSIGN_OR_RETURN(FileStat st, stat_path(path));
    if (st.exists) {
      if (!st.is_regular) { return Status::errorf("{} is not a GGUF file (only GGUF models can be imported)", path); }
      // A blob of this store (the FROM line `show --modelfile` prints) is used in place: copying
      // a many-GB file onto itself would only cost time.
      if (auto d = blob_of_store(path)) return add_gguf_blob(*d, false);
      return add_gguf_file(path);
    }
    if (auto d = Digest::parse(from)) return add_gguf_blob(*d, false);
    auto name = ModelName::parse(from);
    if (!name) { return Status::errorf("no such file {}, and not a model name ({})", path, name.error()); }
    if (!first) return Status::error("only the first FROM may name a model");
    return add_model(*name);
  }

  // FROM without files: a blob digest or a model name, resolved in the store only.
  Status add_digest_or_model(const std::string& from, bool first) {
    if (auto d = Digest::parse(from)) return add_gguf_blob(*d, false);
    CORRAL_ASSIGN_OR_RETURN(ModelName name, ModelName::parse(from));
    if (!first) return Status::error("only the first FROM may name a model");
    return add_model(name);
  }

  std::optional<Digest> blob_of_store(const std::string& path) const {
    std::error_code e1, e2;
    fs::path p = fs::weakly_canonical(path, e1);
    fs::path blobs = fs::weakly_canonical(store_.blobs_dir(), e2);
    if (e1 || e2 || p.parent_path() != blobs) return std::nullopt;
    auto d = Digest::parse(p.filename().string());
    if (!d) return std::nullopt;
    return *d;
  }

  Status add_gguf_file(const std::string& path) {
    report("parsing GGUF");
    // Checked before the copy so a wrong file costs no disk space.
    if (auto f = gguf::GgufFile::open(path); !f) {
      return Status::errorf("supplied file was not in GGUF format: {}", f.error());
    }
    auto progress = [this](int64_t done, int64_t total) { report("copying file", done, total); };
    CORRAL_ASSIGN_OR_RETURN(BlobWrite w, store_.write_blob_from_file(path, std::nullopt, progress));
    if (w.created) created_.push_back(w.digest);
    return add_gguf_blob(w.digest, w.created);
  }

  Status add_gguf_blob(const Digest& digest, bool created) {
    if (!store_.has_blob(digest)) return Status::errorf(StatusCode::kNotFound, "blob {} not found", digest.str());
    std::string path = store_.blob_path(digest);
    // The blob is parsed again even when the source was: the file may have changed meanwhile.
    auto f = gguf::GgufFile::open(path);
    if (!f) {
      // The parser's detail (the magic in hex, key and tensor names) quotes the blob's bytes,
      // which the client may not have sent: it goes to the log only.
      spdlog::info("blob {} is not GGUF: {}", digest.str(), f.error());
      return Status::errorf("supplied file was not in GGUF format (blob {})", digest.str());
    }
    GgufSummary s = summarize_gguf(**f);
    BuiltLayer b;
    // Ollama notes the blob path as the layer's origin when importing a file.
    b.layer = Layer{s.media_type, digest, static_cast<int64_t>((*f)->file_size()), path};
    b.status = fmt::format("{} {}", created ? "creating new layer" : "using existing layer", digest.str());
    b.gguf = s;
    layers_.push_back(std::move(b));
    if (s.media_type == mt::kModel && !s.chat_template.empty() && opts_.detect_template) {
      if (auto t = opts_.detect_template(s.chat_template)) {
        CORRAL_ASSIGN_OR_RETURN(BlobWrite tw, put_bytes(t->text));
        BuiltLayer tl;
        tl.layer = Layer{std::string(mt::kTemplate), tw.digest, tw.size, ""};
        tl.status = "using autodetected template " + t->name;
        layers_.push_back(std::move(tl));
        if (!t->params.empty()) { CORRAL_RETURN_IF_ERROR(add_bytes_layer(mt::kParams, go_json_encode(t->params))); }
      }
    }
    return Status::ok();
  }

  Status add_model(const ModelName& name) {
    CORRAL_ASSIGN_OR_RETURN(ModelName found, store_.find(name));
    CORRAL_ASSIGN_OR_RETURN(Manifest m, store_.read_manifest(found));
    if (!m.config.digest.empty()) {
      // Only what the Modelfile cannot restate is inherited from the config.
      if (auto bytes = read_file_bounded(store_.blob_path(m.config.digest), kMaxConfigBytes)) {
        if (auto c = ModelConfig::parse(*bytes)) inherited_config_ = *c;
      }
    }
    for (const Layer& l : m.layers) {
      CORRAL_ASSIGN_OR_RETURN(FileStat st, stat_path(store_.blob_path(l.digest)));
      if (!st.exists) return Status::errorf("blob {} of {} is missing", l.digest.str(), found.display());
      BuiltLayer b;
      b.layer = Layer{l.media_type, l.digest, st.size, found.display()};
      b.status = "using existing layer " + l.digest.str();
      if (l.media_type == mt::kModel || l.media_type == mt::kAdapter || l.media_type == mt::kProjector) {
        auto f = gguf::GgufFile::open(store_.blob_path(l.digest));
        if (!f) return f.status().with_context(l.digest.str());
        b.gguf = summarize_gguf(**f);
      }
      layers_.push_back(std::move(b));
    }
    return Status::ok();
  }

  Status set_params(const nlohmann::json& given) {
    nlohmann::json merged = given;  // the Modelfile's values win over inherited ones
    for (const BuiltLayer& b : layers_) {
      if (b.layer.media_type != mt::kParams) continue;
      CORRAL_ASSIGN_OR_RETURN(std::string text,
                              read_file_bounded(store_.blob_path(b.layer.digest), kMaxSmallLayerBytes));
      nlohmann::json old = nlohmann::json::parse(text, nullptr, false);
      if (old.is_discarded() || !old.is_object()) {
        return Status::errorf("params layer {} is not a JSON object", b.layer.digest.str());
      }
      for (auto it = old.begin(); it != old.end(); ++it) {
        if (!merged.contains(it.key())) merged[it.key()] = it.value();
      }
    }
    if (merged.empty()) return Status::ok();
    drop_layers({mt::kParams});
    const std::string text = go_json_encode(merged);
    if (std::ssize(text) > kMaxSmallLayerBytes)
      return Status::errorf("parameters are {} bytes as JSON; at most {} bytes are allowed", text.size(),
                            kMaxSmallLayerBytes);
    return add_bytes_layer(mt::kParams, text);
  }

  // Layers are read back with bounds (store.h); a larger one would be written and then unreadable.
  static Status check_sizes(const Modelfile& mf) {
    auto over = [](const char* what, size_t n, int64_t max) {
      return Status::errorf("{} is {} bytes; at most {} bytes are allowed", what, n, max);
    };
    if (mf.template_text && std::ssize(*mf.template_text) > kMaxSmallLayerBytes)
      return over("template", mf.template_text->size(), kMaxSmallLayerBytes);
    if (mf.system && std::ssize(*mf.system) > kMaxSmallLayerBytes)
      return over("system", mf.system->size(), kMaxSmallLayerBytes);
    for (const std::string& l : mf.licenses)
      if (std::ssize(l) > kMaxLargeLayerBytes) return over("a license", l.size(), kMaxLargeLayerBytes);
    return Status::ok();  // messages and parameters: checked once encoded as JSON
  }

  Status finish(const Modelfile& mf, Manifest* manifest) {
    CORRAL_RETURN_IF_ERROR(check_sizes(mf));
    if (mf.template_text) {
      if (opts_.validate_template) {
        Status st = opts_.validate_template(*mf.template_text);
        if (!st) return Status::errorf("template error: {}", st.message());
      }
      drop_layers({mt::kTemplate, mt::kPrompt});
      CORRAL_RETURN_IF_ERROR(add_bytes_layer(mt::kTemplate, *mf.template_text));
    }
    if (mf.system && !mf.system->empty()) {  // Ollama: an empty SYSTEM keeps the inherited one
      drop_layers({mt::kSystem});
      CORRAL_RETURN_IF_ERROR(add_bytes_layer(mt::kSystem, *mf.system));
    }
    for (const std::string& l : mf.licenses) CORRAL_RETURN_IF_ERROR(add_bytes_layer(mt::kLicense, l));
    CORRAL_RETURN_IF_ERROR(set_params(mf.parameters));
    if (!mf.messages.empty()) {
      nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
      for (const Message& m : mf.messages) {
        nlohmann::ordered_json j = nlohmann::ordered_json::object();
        j["role"] = m.role;  // Go's api.Message field order
        j["content"] = m.content;
        msgs.push_back(std::move(j));
      }
      const std::string text = go_json_encode(msgs);
      if (std::ssize(text) > kMaxLargeLayerBytes)
        return Status::errorf("messages are {} bytes as JSON; at most {} bytes are allowed", text.size(),
                              kMaxLargeLayerBytes);
      drop_layers({mt::kMessages});
      CORRAL_RETURN_IF_ERROR(add_bytes_layer(mt::kMessages, text));
    }

    ModelConfig config;
    for (const BuiltLayer& b : layers_) {
      if (!b.gguf) continue;
      // The first weights layer names the model; every one adds its architecture.
      if (config.model_format.empty()) config.model_format = "gguf";
      if (config.model_family.empty()) config.model_family = b.gguf->architecture;
      if (config.model_type.empty()) config.model_type = b.gguf->parameter_size;
      if (config.file_type.empty()) config.file_type = b.gguf->file_type;
      config.model_families.push_back(b.gguf->architecture);
    }
    if (!std::any_of(layers_.begin(), layers_.end(),
                     [](const BuiltLayer& b) { return b.layer.media_type == mt::kModel; })) {
      return Status::error("FROM gave no model weights (only adapters or projectors)");
    }
    config.model_families_null = config.model_families.empty();
    config.renderer = !mf.renderer.empty() ? mf.renderer : inherited_config_.renderer;
    config.parser = !mf.parser.empty() ? mf.parser : inherited_config_.parser;
    config.requires_version = !mf.requires_version.empty() ? mf.requires_version : inherited_config_.requires_version;
    for (const BuiltLayer& b : layers_) {
      config.diff_ids.push_back(b.layer.digest.str());
      manifest->layers.push_back(b.layer);
    }
    CORRAL_ASSIGN_OR_RETURN(BlobWrite cw, put_bytes(config.to_json()));
    manifest->config = Layer{std::string(mt::kConfig), cw.digest, cw.size, ""};
    return Status::ok();
  }

  const Store& store_;
  const CreateOptions& opts_;
  std::vector<BuiltLayer> layers_;
  std::vector<Digest> created_;  // blobs this call wrote; removed again if left unused
  ModelConfig inherited_config_;
};

}  // namespace

bool looks_like_path(std::string_view from) {
  if (from.empty()) return false;
  return from[0] == '/' || from[0] == '.' || from[0] == '~' || from.find('\\') != std::string_view::npos;
}

std::string expand_from_path(const std::string& p, const std::string& base_dir) {
  if (!p.empty() && p[0] == '/') return p;
  if (!p.empty() && p[0] == '~') {
    size_t slash = p.find('/');
    std::string user = p.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    std::string rest = slash == std::string::npos ? "" : p.substr(slash);
    std::string home;
    if (user.empty()) {
      const char* h = std::getenv("HOME");
      home = h ? h : "";
    } else if (const passwd* pw = ::getpwnam(user.c_str()); pw && pw->pw_dir) {
      home = pw->pw_dir;
    } else {
      return p;  // unknown user: left as is, so it is then tried as a model name
    }
    return home + rest;
  }
  return base_dir + "/" + p;
}

Result<ModelName> create_model(const Store& store, std::string_view name, const Modelfile& mf,
                               const CreateOptions& options) {
  return Creator(store, options).run(name, mf);
}

}  // namespace corral::store
