#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "store/file_io.h"
#include "store_fixture.h"

namespace corral::store {
namespace {

namespace fs = std::filesystem;
using testing::layer_json;

class StoreTest : public testing::TempStore {
 protected:
  struct Made {
    std::string manifest;  // bytes
    std::string model_digest;
    int64_t size = 0;
  };

  // A model laid out exactly as Ollama lays one out after `ollama pull`.
  Made make_ollama_model(const std::string& rel_path, const std::string& weights,
                         const std::string& system = "You are helpful.") {
    const std::string tmpl = "{{ if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}";
    const std::string params = "{\"stop\":[\"\\u003c|end|\\u003e\"],\"temperature\":0.7}\n";
    const std::string license = "MIT License";
    const std::string messages =
        "[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"Assistant\",\"content\":\"hello\"}]\n";
    Made m;
    m.model_digest = put_blob(weights);
    std::string t = put_blob(tmpl), s = put_blob(system), p = put_blob(params), l = put_blob(license),
                msg = put_blob(messages);
    std::string config =
        "{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"model_families\":[\"llama\"],"
        "\"model_type\":\"8.0B\",\"file_type\":\"Q4_K_M\",\"architecture\":\"amd64\",\"os\":\"linux\","
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" +
        m.model_digest + "\"]}}\n";
    std::string c = put_blob(config);
    m.manifest =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        "\"config\":" +
        layer_json("application/vnd.docker.container.image.v1+json", c, config.size()) + ",\"layers\":[" +
        layer_json("application/vnd.ollama.image.model", m.model_digest, weights.size()) + "," +
        layer_json("application/vnd.ollama.image.template", t, tmpl.size()) + "," +
        layer_json("application/vnd.ollama.image.system", s, system.size()) + "," +
        layer_json("application/vnd.ollama.image.params", p, params.size()) + "," +
        layer_json("application/vnd.ollama.image.license", l, license.size()) + "," +
        layer_json("application/vnd.ollama.image.messages", msg, messages.size()) + "]}";
    m.size = static_cast<int64_t>(config.size() + weights.size() + tmpl.size() + system.size() + params.size() +
                                  license.size() + messages.size());
    write_file(manifest_file(rel_path), m.manifest);
    return m;
  }
};

TEST_F(StoreTest, OllamaLayoutListsAndResolves) {
  Made a = make_ollama_model("registry.ollama.ai/library/llama3/latest", "weights-a");
  Made b = make_ollama_model("example.com/team/coder/7b", "weights-b", "Write code.");
  Store s = store();

  auto list = s.list();
  ASSERT_TRUE(list.is_ok()) << list.error();
  EXPECT_TRUE(list->skipped.empty());
  ASSERT_EQ(list->models.size(), 2u);
  const ListEntry* llama = nullptr;
  for (const ListEntry& e : list->models) {
    if (e.name.model == "llama3") llama = &e;
  }
  ASSERT_NE(llama, nullptr);
  EXPECT_EQ(llama->name.display(), "llama3:latest");
  EXPECT_EQ(llama->size, a.size);
  EXPECT_EQ(llama->digest, Sha256::of(a.manifest).hex());
  EXPECT_EQ(llama->details.format, "gguf");
  EXPECT_EQ(llama->details.family, "llama");
  EXPECT_EQ(llama->details.families, std::vector<std::string>{"llama"});
  EXPECT_EQ(llama->details.parameter_size, "8.0B");
  EXPECT_EQ(llama->details.quantization_level, "Q4_K_M");

  auto r = s.resolve("llama3");
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_EQ(r->model_path, s.blob_path(*Digest::parse(a.model_digest)));
  EXPECT_EQ(r->template_text.value_or(""), "{{ if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}");
  EXPECT_EQ(r->system.value_or(""), "You are helpful.");
  EXPECT_EQ(r->params["stop"][0], "<|end|>");
  EXPECT_DOUBLE_EQ(r->params["temperature"].get<double>(), 0.7);
  ASSERT_EQ(r->licenses.size(), 1u);
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[1].role, "assistant");  // Ollama lowercases roles when reading
  EXPECT_EQ(r->manifest_digest, llama->digest);

  auto c = s.resolve("example.com/team/coder:7b");
  ASSERT_TRUE(c.is_ok()) << c.error();
  EXPECT_EQ(c->system.value_or(""), "Write code.");
  EXPECT_EQ(c->name.display(), "example.com/team/coder:7b");

  // show --modelfile
  std::string mf = render_modelfile(r->modelfile_source());
  EXPECT_NE(mf.find("# FROM llama3:latest\n\nFROM " + r->model_path + "\n"), std::string::npos) << mf;
  EXPECT_NE(mf.find("PARAMETER stop <|end|>\nPARAMETER temperature 0.7\n"), std::string::npos) << mf;
  auto back = parse_modelfile(mf);
  ASSERT_TRUE(back.is_ok()) << back.error();
  EXPECT_EQ(back->parameters, r->params);
  EXPECT_EQ(*back->system, "You are helpful.");
}

TEST_F(StoreTest, NamesResolveCaseInsensitively) {
  make_ollama_model("registry.ollama.ai/library/llama3/latest", "w");
  Store s = store();
  auto r = s.resolve("LLama3:LATEST");
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_EQ(r->name.model, "llama3");
  EXPECT_EQ(r->name.tag, "latest");
  // A new tag of an existing model is written under the model's existing spelling.
  ASSERT_TRUE(s.copy("llama3", "LLAMA3:v2").is_ok());
  EXPECT_TRUE(fs::exists(manifest_file("registry.ollama.ai/library/llama3/v2")));
  EXPECT_FALSE(fs::exists(manifest_file("registry.ollama.ai/library/LLAMA3")));
  auto missing = s.resolve("nosuch");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.error(), "model 'nosuch:latest' not found");
  EXPECT_FALSE(s.resolve("../../etc/passwd").is_ok());
}

TEST_F(StoreTest, CorruptManifestsAreErrorsNotCrashes) {
  Made good = make_ollama_model("registry.ollama.ai/library/good/latest", "w");
  const std::string base = "registry.ollama.ai/library/";
  std::string model = good.model_digest;
  write_file(manifest_file(base + "badjson/latest"), "{\"layers\": [");
  write_file(manifest_file(base + "huge/latest"), std::string(5 << 20, ' ') + "{}");
  write_file(
      manifest_file(base + "dotdot/latest"),
      "{\"layers\":[" + layer_json("application/vnd.ollama.image.model", "sha256:../../../../etc/passwd", 1) + "]}");
  write_file(manifest_file(base + "wrongtype/latest"),
             "{\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"" + model +
                 "\",\"size\":\"big\"}]}");
  write_file(
      manifest_file(base + "missingblob/latest"),
      "{\"layers\":[" + layer_json("application/vnd.ollama.image.model", "sha256:" + std::string(64, 'b'), 10) + "]}");
  write_file(manifest_file(base + "shortblob/latest"),
             "{\"layers\":[" + layer_json("application/vnd.ollama.image.model", model, 999) + "]}");
  write_file(manifest_file(base + "nomodel/latest"), "{\"layers\":[]}");
  write_file(manifest_file(base + "notobject/latest"), "[1,2,3]");
  write_file(manifest_file(base + "noconfig/latest"),
             "{\"config\":" +
                 layer_json("application/vnd.docker.container.image.v1+json", "sha256:" + std::string(64, 'c'), 5) +
                 ",\"layers\":[]}");
  write_file(manifest_file(base + "badconfig/latest"), "{\"config\":" +
                                                           layer_json("application/vnd.docker.container.image.v1+json",
                                                                      put_blob("{\"model_families\":\"llama\"}"), 26) +
                                                           ",\"layers\":[]}");
  // Things that are not manifests at all: a temp file, a directory at the tag level, a bad name.
  write_file(manifest_file(base + "good/.latest.tmp-1-2-3"), "garbage");
  fs::create_directories(manifest_file(base + "good/dir-not-file"));
  write_file(manifest_file(base + "good/-bad-tag"), "garbage");

  Store s = store();
  auto list = s.list();
  ASSERT_TRUE(list.is_ok()) << list.error();
  std::vector<std::string> listed;
  for (const ListEntry& e : list->models) listed.push_back(e.name.model);
  std::sort(listed.begin(), listed.end());
  // Models whose manifest and config read fine are listed, even if a weights blob is missing.
  EXPECT_EQ(listed, (std::vector<std::string>{"good", "missingblob", "nomodel", "shortblob"}));
  EXPECT_EQ(list->skipped.size(), 7u);
  for (const std::string& why : list->skipped) EXPECT_FALSE(why.empty());

  for (const char* name : {"badjson", "huge", "dotdot", "wrongtype", "missingblob", "shortblob", "nomodel", "notobject",
                           "noconfig", "badconfig"}) {
    auto r = s.resolve(name);
    EXPECT_FALSE(r.is_ok()) << name;
    if (!r) { EXPECT_FALSE(r.error().empty()); }
  }
  EXPECT_NE(s.resolve("huge").error().find("bytes"), std::string::npos);
  EXPECT_NE(s.resolve("dotdot").error().find("invalid digest format"), std::string::npos);
  EXPECT_NE(s.resolve("missingblob").error().find("missing"), std::string::npos);
  EXPECT_NE(s.resolve("shortblob").error().find("manifest says 999"), std::string::npos);
  EXPECT_TRUE(s.resolve("good").is_ok());
  // A corrupt manifest can still be removed, and the blob its text names is not collected
  // while the good model uses it.
  ASSERT_TRUE(s.remove("badjson").is_ok());
  EXPECT_TRUE(s.has_blob(*Digest::parse(model)));
}

TEST_F(StoreTest, OversizedTextLayersAreRefused) {
  std::string weights = "w";
  std::string m = put_blob(weights);
  std::string big(kMaxSmallLayerBytes + 1, 'x');
  std::string t = put_blob(big);
  write_file(manifest_file("registry.ollama.ai/library/bigtmpl/latest"),
             "{\"layers\":[" + layer_json("application/vnd.ollama.image.model", m, 1) + "," +
                 layer_json("application/vnd.ollama.image.template", t, big.size()) + "]}");
  auto r = store().resolve("bigtmpl");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.error().find("bytes"), std::string::npos) << r.error();
}

TEST_F(StoreTest, RemoveCollectsOnlyUnsharedBlobs) {
  Made a = make_ollama_model("registry.ollama.ai/library/a/latest", "shared-weights", "sys-a");
  Made b = make_ollama_model("registry.ollama.ai/library/b/latest", "shared-weights", "sys-b");
  Store s = store();
  Digest weights = *Digest::parse(a.model_digest);
  Digest sys_a = Sha256::of("sys-a"), sys_b = Sha256::of("sys-b");
  Digest tmpl = Sha256::of("{{ if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}");

  auto r = s.remove("a");
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_EQ(r->name.model, "a");
  EXPECT_TRUE(s.has_blob(weights));  // still used by b
  EXPECT_TRUE(s.has_blob(tmpl));
  EXPECT_FALSE(s.has_blob(sys_a));
  EXPECT_TRUE(s.has_blob(sys_b));
  // Only sys-a was a's alone (the config blobs are identical: same diff_ids).
  ASSERT_EQ(r->removed_blobs, std::vector<Digest>{sys_a});
  EXPECT_FALSE(fs::exists(manifest_file("registry.ollama.ai/library/a")));  // pruned
  EXPECT_TRUE(fs::exists(manifest_file("registry.ollama.ai/library/b/latest")));

  auto missing = s.remove("a");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.error(), "model 'a:latest' not found");

  ASSERT_TRUE(s.remove("b").is_ok());
  EXPECT_TRUE(blob_files().empty()) << blob_files().size();
  EXPECT_FALSE(fs::exists(manifest_file("registry.ollama.ai")));
  EXPECT_TRUE(fs::exists(root_ + "/manifests"));
}

TEST_F(StoreTest, UnparseableManifestStillProtectsItsBlobs) {
  Made a = make_ollama_model("registry.ollama.ai/library/a/latest", "weights");
  // Another model's manifest is damaged but still names the weights digest in its text.
  write_file(manifest_file("registry.ollama.ai/library/broken/latest"),
             "{\"layers\":[{\"digest\":\"" + a.model_digest + "\" <truncated");
  Store s = store();
  ASSERT_TRUE(s.remove("a").is_ok());
  EXPECT_TRUE(s.has_blob(*Digest::parse(a.model_digest)));
}

TEST_F(StoreTest, CopyIsByteForByte) {
  Made a = make_ollama_model("registry.ollama.ai/library/a/latest", "weights");
  Store s = store();
  ASSERT_TRUE(s.copy("a", "me/a-copy:v1").is_ok());
  auto list = s.list();
  ASSERT_TRUE(list.is_ok());
  ASSERT_EQ(list->models.size(), 2u);
  EXPECT_EQ(list->models[0].digest, list->models[1].digest);
  auto r = s.resolve("me/a-copy:v1");
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_EQ(r->name.display(), "me/a-copy:v1");
  EXPECT_TRUE(s.copy("a", "a:latest").is_ok());  // onto itself: nothing to do
  EXPECT_EQ(s.copy("nosuch", "x").message(), "model 'nosuch:latest' not found");
  EXPECT_FALSE(s.copy("a", "../x").is_ok());
  EXPECT_FALSE(s.copy("a:b:c", "x").is_ok());
  // Removing the original keeps everything the copy needs.
  ASSERT_TRUE(s.remove("a").is_ok());
  EXPECT_TRUE(s.resolve("me/a-copy:v1").is_ok());
}

TEST_F(StoreTest, BlobWritesVerifyAndAreAtomic) {
  Store s = store();
  std::istringstream in("hello blob");
  auto w = s.write_blob(in);
  ASSERT_TRUE(w.is_ok()) << w.error();
  EXPECT_TRUE(w->created);
  EXPECT_EQ(w->digest, Sha256::of("hello blob"));
  EXPECT_EQ(w->size, 10);
  EXPECT_TRUE(s.has_blob(w->digest));
  EXPECT_EQ(fs::status(w->path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);

  auto again = s.write_blob_bytes("hello blob");
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(again->created);

  std::istringstream in2("other bytes");
  auto bad = s.write_blob(in2, Sha256::of("something else"));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().find("digest mismatch"), std::string::npos);
  EXPECT_FALSE(s.has_blob(Sha256::of("other bytes")));
  // Nothing half-written is left behind, whatever happened.
  EXPECT_EQ(blob_files(), std::vector<std::string>{w->digest.file_name()});

  {
    auto writer = s.begin_blob();
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE(writer->append("abandoned", 9).is_ok());
  }  // dropped without commit
  EXPECT_EQ(blob_files().size(), 1u);

  auto from_file = s.write_blob_from_file(w->path, w->digest);
  ASSERT_TRUE(from_file.is_ok()) << from_file.error();
  EXPECT_FALSE(from_file->created);
  EXPECT_FALSE(s.write_blob_from_file(root_ + "/nope").is_ok());
  EXPECT_FALSE(s.write_blob_from_file(root_).is_ok());  // a directory
}

TEST_F(StoreTest, WriteManifestRefusesMissingBlobsAndRoundTrips) {
  Store s = store();
  auto name = ModelName::parse("x");
  ASSERT_TRUE(name.is_ok());
  Manifest m;
  m.layers.push_back(Layer{"application/vnd.ollama.image.model", Sha256::of("absent"), 6, ""});
  Status st = s.write_manifest(*name, m);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("missing"), std::string::npos);
  EXPECT_FALSE(fs::exists(s.manifest_path(*name)));

  auto blob = s.write_blob_bytes("absent");
  ASSERT_TRUE(blob.is_ok());
  m.layers[0].from = "/some/where";
  ASSERT_TRUE(s.write_manifest(*name, m).is_ok());
  auto back = s.read_manifest(*name);
  ASSERT_TRUE(back.is_ok()) << back.error();
  EXPECT_EQ(back->to_json(), m.to_json());
  EXPECT_EQ(back->layers[0].from, "/some/where");
  // Ollama's exact serialization (Go's json.Encoder of ManifestV2).
  EXPECT_EQ(m.to_json(),
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
            "\"config\":{\"mediaType\":\"\",\"digest\":\"\",\"size\":0},\"layers\":[{\"mediaType\":"
            "\"application/vnd.ollama.image.model\",\"digest\":\"" +
                Sha256::of("absent").str() + "\",\"size\":6,\"from\":\"/some/where\"}]}\n");
}

TEST_F(StoreTest, ModelConfigRoundTrips) {
  const std::string ollama =
      "{\"model_format\":\"gguf\",\"model_family\":\"qwen2\",\"model_families\":[\"qwen2\",\"clip\"],"
      "\"model_type\":\"7.6B\",\"file_type\":\"Q4_K_M\",\"renderer\":\"qwen3\",\"architecture\":\"amd64\","
      "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" +
      std::string(64, 'a') + "\"]}}\n";
  auto c = ModelConfig::parse(ollama);
  ASSERT_TRUE(c.is_ok()) << c.error();
  EXPECT_EQ(c->model_families.size(), 2u);
  EXPECT_EQ(c->renderer, "qwen3");
  EXPECT_EQ(c->to_json(), ollama);
  auto nulls = ModelConfig::parse("{\"model_families\":null,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
  ASSERT_TRUE(nulls.is_ok());
  EXPECT_NE(nulls->to_json().find("\"model_families\":null"), std::string::npos);
}

TEST_F(StoreTest, DefaultRootFollowsOllamaModels) {
  const char* old = std::getenv("OLLAMA_MODELS");
  std::string saved = old ? old : "";
  ::setenv("OLLAMA_MODELS", " \"/data/models\" ", 1);
  EXPECT_EQ(Store::default_root(), "/data/models");
  ::unsetenv("OLLAMA_MODELS");
  const char* home = std::getenv("HOME");
  if (home) { EXPECT_EQ(Store::default_root(), std::string(home) + "/.ollama/models"); }
  if (old) ::setenv("OLLAMA_MODELS", saved.c_str(), 1);
}

// The concurrency rule: a writer that holds the shared lock from writing a blob until its
// manifest is written never loses the blob to a concurrent remove of another model sharing it.
TEST_F(StoreTest, ConcurrentRemoveNeverCollectsABlobBeingReferenced) {
  Store s = store();
  auto x = ModelName::parse("x"), y = ModelName::parse("y");
  ASSERT_TRUE(x && y);
  std::atomic<int> failures{0};
  auto writer = [&](const ModelName& name, const char* remove_name, int rounds) {
    for (int i = 0; i < rounds; ++i) {
      {
        auto lock = s.lock_shared();
        if (!lock) {
          ++failures;
          continue;
        }
        auto w = s.write_blob_bytes("shared bytes");
        if (!w) {
          ++failures;
          continue;
        }
        Manifest m;
        m.layers.push_back(Layer{"application/vnd.ollama.image.model", w->digest, w->size, ""});
        if (!s.write_manifest(name, m, Store::Locking::kAlreadyLocked)) ++failures;
      }
      if (!s.remove(remove_name)) ++failures;
    }
  };
  std::thread t1(writer, *x, "x", 40), t2(writer, *y, "y", 40);
  t1.join();
  t2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(blob_files().empty());
}

}  // namespace
}  // namespace corral::store
