#include <gtest/gtest.h>

#include "common/test_data.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "store/create.h"
#include "store/gguf_info.h"
#include "store_fixture.h"

namespace corral::store {
namespace {

namespace fs = std::filesystem;

class CreateTest : public testing::TempStore {
 protected:
  // Runs create and records the progress statuses.
  // File paths are allowed (the fixture imports test GGUFs) unless a test turns them off.
  Result<ModelName> create(const std::string& name, const std::string& modelfile,
                           CreateOptions opts = files_allowed()) {
    statuses_.clear();
    auto mf = parse_modelfile(modelfile);
    if (!mf) return mf.status();
    opts.progress = [this](const Progress& p) {
      if (statuses_.empty() || statuses_.back() != p.status) statuses_.push_back(p.status);
    };
    return create_model(store(), name, *mf, opts);
  }

  static CreateOptions files_allowed() {
    CreateOptions o;
    o.allow_file_paths = true;
    return o;
  }

  bool saw(const std::string& prefix) const {
    for (const std::string& s : statuses_) {
      if (s.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  // A small GGUF with a chat template, written with the project's GGUF writer.
  std::string make_chat_gguf() {
    gguf::GgufWriter w;
    w.set_string("general.architecture", "qwen2");
    w.set_u32("general.file_type", 15);
    w.set_string("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}");
    w.add_tensor("token_embd.weight", DType::kF32, {4, 3}, std::string(4 * 3 * 4, '\0'));
    w.add_tensor("output.weight", DType::kF32, {4, 5}, std::string(4 * 5 * 4, '\0'));
    std::string path = root_ + "/chat.gguf";
    EXPECT_TRUE(w.write_file(path).is_ok());
    return path;
  }

  std::vector<std::string> statuses_;
};

TEST_F(CreateTest, FromGgufThenListResolveCopyRemove) {
  const std::string gguf_path = corral::testing::test_data_path("models/tinystories-656k-q8_0.gguf");
  const std::string modelfile = "FROM " + gguf_path +
                                "\nSYSTEM You tell short stories.\n"
                                "PARAMETER temperature 0.5\nPARAMETER stop </s>\nPARAMETER num_ctx 256\n"
                                "LICENSE MIT\nMESSAGE user Tell me a story\nMESSAGE assistant Once upon a time\n";
  auto created = create("stories:q8", modelfile);
  ASSERT_TRUE(created.is_ok()) << created.error();
  EXPECT_EQ(created->display(), "stories:q8");
  EXPECT_EQ(statuses_.front(), "parsing modelfile");
  EXPECT_TRUE(saw("parsing GGUF"));
  EXPECT_TRUE(saw("copying file"));
  EXPECT_TRUE(saw("creating new layer sha256:"));
  EXPECT_EQ(statuses_[statuses_.size() - 2], "writing manifest");
  EXPECT_EQ(statuses_.back(), "success");

  Store s = store();
  auto file = gguf::GgufFile::open(gguf_path);
  ASSERT_TRUE(file.is_ok());
  GgufSummary sum = summarize_gguf(**file);
  EXPECT_EQ(sum.architecture, "llama");
  EXPECT_EQ(sum.file_type, "Q8_0");

  auto list = s.list();
  ASSERT_TRUE(list.is_ok()) << list.error();
  ASSERT_EQ(list->models.size(), 1u);
  const ListEntry& e = list->models[0];
  EXPECT_EQ(e.name.display(), "stories:q8");
  EXPECT_EQ(e.details.format, "gguf");
  EXPECT_EQ(e.details.family, "llama");
  EXPECT_EQ(e.details.families, std::vector<std::string>{"llama"});
  EXPECT_EQ(e.details.parameter_size, sum.parameter_size);
  EXPECT_EQ(e.details.quantization_level, "Q8_0");
  EXPECT_GT(e.size, static_cast<int64_t>(fs::file_size(gguf_path)));

  auto r = s.resolve("stories:q8");
  ASSERT_TRUE(r.is_ok()) << r.error();
  const std::string bytes = corral::testing::read_file(gguf_path);
  EXPECT_EQ(r->model_path, s.blob_path(Sha256::of(bytes)));
  EXPECT_EQ(corral::testing::read_file(r->model_path), bytes);
  EXPECT_EQ(r->system.value_or(""), "You tell short stories.");
  EXPECT_EQ(r->params.dump(), R"({"num_ctx":256,"stop":["</s>"],"temperature":0.5})");
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[1].content, "Once upon a time");
  EXPECT_EQ(r->licenses, std::vector<std::string>{"MIT"});
  EXPECT_FALSE(r->template_text.has_value());         // no chat template in the GGUF: Ollama's default
  EXPECT_EQ(r->details.parent_model, r->model_path);  // Ollama notes the blob path as origin

  // Layers in Ollama's order, and a config whose diff_ids list them.
  const auto& layers = r->manifest.layers;
  ASSERT_EQ(layers.size(), 5u);
  EXPECT_EQ(layers[0].media_type, media_type::kModel);
  EXPECT_EQ(layers[1].media_type, media_type::kSystem);
  EXPECT_EQ(layers[2].media_type, media_type::kLicense);
  EXPECT_EQ(layers[3].media_type, media_type::kParams);
  EXPECT_EQ(layers[4].media_type, media_type::kMessages);
  ASSERT_EQ(r->config.diff_ids.size(), 5u);
  EXPECT_EQ(r->config.diff_ids[0], layers[0].digest.str());
  EXPECT_EQ(r->config.os, "linux");
  EXPECT_EQ(r->config.architecture, "amd64");
  EXPECT_EQ(corral::testing::read_file(s.blob_path(layers[3].digest)),
            "{\"num_ctx\":256,\"stop\":[\"\\u003c/s\\u003e\"],\"temperature\":0.5}\n");
  EXPECT_EQ(corral::testing::read_file(s.blob_path(layers[4].digest)),
            "[{\"role\":\"user\",\"content\":\"Tell me a story\"},"
            "{\"role\":\"assistant\",\"content\":\"Once upon a time\"}]\n");

  // The same create again reuses every layer and writes the same manifest.
  std::string digest_before = e.digest;
  ASSERT_TRUE(create("stories:q8", modelfile).is_ok());
  EXPECT_FALSE(saw("creating new layer"));
  EXPECT_TRUE(saw("using existing layer sha256:"));
  EXPECT_EQ(s.list()->models[0].digest, digest_before);

  // show --modelfile round-trips into an equivalent model.
  std::string shown = render_modelfile(r->modelfile_source());
  ASSERT_TRUE(create("stories:shown", shown).is_ok()) << shown;
  EXPECT_FALSE(saw("copying file"));  // FROM names a blob of the store: used in place
  auto shown_r = s.resolve("stories:shown");
  ASSERT_TRUE(shown_r.is_ok()) << shown_r.error();
  EXPECT_EQ(shown_r->model_path, r->model_path);
  EXPECT_EQ(shown_r->params, r->params);
  EXPECT_EQ(shown_r->system, r->system);
  EXPECT_EQ(shown_r->template_text.value_or(""), "{{ .Prompt }}");

  ASSERT_TRUE(s.copy("stories:q8", "backup/stories:q8").is_ok());
  ASSERT_TRUE(s.remove("stories:q8").is_ok());
  ASSERT_TRUE(s.remove("stories:shown").is_ok());
  EXPECT_TRUE(fs::exists(r->model_path));  // the backup still uses it
  ASSERT_TRUE(s.remove("backup/stories:q8").is_ok());
  EXPECT_TRUE(blob_files().empty());
  EXPECT_TRUE(s.list()->models.empty());
}

TEST_F(CreateTest, FromExistingModelInheritsAndOverrides) {
  const std::string gguf_path = corral::testing::test_data_path("models/stories260K.gguf");
  ASSERT_TRUE(create("base", "FROM " + gguf_path +
                                 "\nSYSTEM base system\nPARAMETER temperature 0.9\n"
                                 "PARAMETER stop <end>\nLICENSE base license\n")
                  .is_ok());
  auto derived = create("me/derived:v1",
                        "FROM base\nSYSTEM derived system\nPARAMETER temperature 0.1\n"
                        "LICENSE extra license\n");
  ASSERT_TRUE(derived.is_ok()) << derived.error();
  EXPECT_TRUE(saw("using existing layer sha256:"));

  Store s = store();
  auto base = s.resolve("base");
  auto d = s.resolve("me/derived:v1");
  ASSERT_TRUE(base.is_ok() && d.is_ok());
  EXPECT_EQ(d->model_path, base->model_path);
  EXPECT_EQ(d->details.parent_model, "base:latest");  // Ollama's "from" on inherited layers
  EXPECT_EQ(d->system.value_or(""), "derived system");
  EXPECT_DOUBLE_EQ(d->params["temperature"].get<double>(), 0.1);   // overridden
  EXPECT_EQ(d->params["stop"], nlohmann::json::array({"<end>"}));  // inherited
  EXPECT_EQ(d->licenses, (std::vector<std::string>{"base license", "extra license"}));
  EXPECT_EQ(d->details.family, "llama");

  // Replacing a model collects the layers only its old version used.
  Digest old_system = Sha256::of("derived system");
  ASSERT_TRUE(create("me/derived:v1", "FROM base\nSYSTEM newer\n").is_ok());
  EXPECT_FALSE(s.has_blob(old_system));
  EXPECT_TRUE(s.has_blob(Sha256::of("base system")));

  // FROM a blob digest, in each spelling.
  std::string hex = Digest::parse("sha256:" + fs::path(base->model_path).filename().string().substr(7))->hex();
  for (const std::string& ref : {"@sha256:" + hex, "sha256:" + hex, "sha256-" + hex}) {
    auto b = create("fromblob", "FROM " + ref + "\n");
    ASSERT_TRUE(b.is_ok()) << ref << ": " << b.error();
    EXPECT_EQ(s.resolve("fromblob")->model_path, base->model_path);
  }
}

TEST_F(CreateTest, RelativePathsAndFailuresLeaveNothingBehind) {
  // FROM relative to the Modelfile's folder.
  std::string dir = root_ + "/work";
  fs::create_directories(dir);
  fs::copy_file(corral::testing::test_data_path("models/stories260K.gguf"), dir + "/m.gguf");
  CreateOptions opts = files_allowed();
  opts.base_dir = dir;
  ASSERT_TRUE(create("rel", "FROM ./m.gguf\n", opts).is_ok());
  std::vector<std::string> before = blob_files();

  write_file(dir + "/not.gguf", "this is not a gguf file at all");
  auto bad = create("bad", "FROM ./not.gguf\n", opts);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().find("supplied file was not in GGUF format"), std::string::npos) << bad.error();

  auto missing = create("bad", "FROM nosuchmodel\n");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.error().find("model 'nosuchmodel:latest' not found"), std::string::npos) << missing.error();

  auto nonsense = create("bad", "FROM ./no/such/file.gguf\n", opts);
  ASSERT_FALSE(nonsense.is_ok());
  EXPECT_NE(nonsense.error().find("no such file"), std::string::npos) << nonsense.error();

  auto unknown_blob = create("bad", "FROM @sha256:" + std::string(64, 'f') + "\n");
  ASSERT_FALSE(unknown_blob.is_ok());
  EXPECT_NE(unknown_blob.error().find("not found"), std::string::npos);

  auto dir_from = create("bad", "FROM " + dir + "\n");
  ASSERT_FALSE(dir_from.is_ok());

  // A second FROM that is a model name fails after the first FROM copied a new blob; that blob
  // must not survive the failed create.
  fs::copy_file(corral::testing::test_data_path("models/stories260K-ctx512.gguf"), dir + "/m2.gguf");
  auto two = create("bad", "FROM ./m2.gguf\nFROM rel\n", opts);
  ASSERT_FALSE(two.is_ok());
  EXPECT_NE(two.error().find("only the first FROM may name a model"), std::string::npos) << two.error();

  auto bad_name = create("../evil", "FROM rel\n");
  ASSERT_FALSE(bad_name.is_ok());
  EXPECT_NE(bad_name.error().find("invalid model name"), std::string::npos);

  // A template the validator rejects: no manifest, and the blobs this create wrote are gone.
  opts.validate_template = [](std::string_view t) {
    return t.find("{{ broken") != std::string_view::npos ? Status::error("unclosed action") : Status::ok();
  };
  auto bad_tmpl = create("bad", "FROM rel\nSYSTEM brand new text\nTEMPLATE {{ broken\n", opts);
  ASSERT_FALSE(bad_tmpl.is_ok());
  EXPECT_EQ(bad_tmpl.error(), "template error: unclosed action");

  EXPECT_EQ(blob_files(), before);
  EXPECT_FALSE(fs::exists(manifest_file("registry.ollama.ai/library/bad")));
  EXPECT_EQ(store().list()->models.size(), 1u);
}

TEST_F(CreateTest, TemplateDetectionHook) {
  std::string path = make_chat_gguf();
  CreateOptions opts = files_allowed();
  opts.detect_template = [](std::string_view jinja) -> std::optional<DetectedTemplate> {
    if (jinja.find("<|im_start|>") == std::string_view::npos) return std::nullopt;
    DetectedTemplate t;
    t.name = "chatml";
    t.text = "{{ range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}";
    t.params = {{"stop", {"<|im_start|>", "<|im_end|>"}}};
    return t;
  };
  ASSERT_TRUE(create("chat", "FROM " + path + "\n", opts).is_ok());
  EXPECT_TRUE(saw("using autodetected template chatml"));
  Store s = store();
  auto r = s.resolve("chat");
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_NE(r->template_text.value_or("").find("<|im_start|>"), std::string::npos);
  EXPECT_EQ(r->params["stop"].size(), 2u);
  EXPECT_EQ(r->details.family, "qwen2");
  EXPECT_EQ(r->details.quantization_level, "Q4_K_M");
  EXPECT_EQ(r->details.parameter_size, "32");  // 12 + 20 elements

  // An explicit TEMPLATE replaces the detected one; the detected blob, now unused, is collected.
  Digest detected = Sha256::of(*r->template_text);
  ASSERT_TRUE(create("chat2", "FROM " + path + "\nTEMPLATE {{ .Prompt }}!\nPARAMETER stop X\n", opts).is_ok());
  auto r2 = s.resolve("chat2");
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ(r2->template_text.value_or(""), "{{ .Prompt }}!");
  EXPECT_EQ(r2->params["stop"], nlohmann::json::array({"X"}));  // the Modelfile's value wins
  EXPECT_TRUE(s.has_blob(detected));                            // still used by "chat"
  ASSERT_TRUE(s.remove("chat").is_ok());
  EXPECT_FALSE(s.has_blob(detected));
}

TEST_F(CreateTest, DefaultHooksUseTemplatesLayer) {
  std::string path = make_chat_gguf();
  ASSERT_TRUE(create("chat", "FROM " + path + "\n").is_ok());
  EXPECT_TRUE(saw("using autodetected template chatml"));
  auto r = store().resolve("chat");
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_NE(r->template_text.value_or("").find("<|im_start|>"), std::string::npos);
  EXPECT_NE(r->params.dump().find("<|im_end|>"), std::string::npos) << r->params.dump();

  // A GGUF without a chat template gets no template layer.
  ASSERT_TRUE(create("plain", "FROM " + corral::testing::test_data_path("models/stories260K.gguf") + "\n").is_ok());
  EXPECT_FALSE(saw("using autodetected template"));
  EXPECT_FALSE(store().resolve("plain")->template_text.has_value());

  // TEMPLATE texts must parse as Go templates.
  auto bad = create("bad", "FROM chat\nTEMPLATE {{ if .System }}unclosed\n");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.error().rfind("template error: ", 0), 0u) << bad.error();
}

// The server's mode (CreateOptions{}): a FROM that looks like a path is refused before anything
// touches the file system, with one text for an existing file, a missing one and a folder; model
// names and blobs still work, and a blob that is not GGUF is named without quoting its bytes.
TEST_F(CreateTest, FilePathsAreRefusedUnlessAllowed) {
  ASSERT_TRUE(create("base", "FROM " + corral::testing::test_data_path("models/stories260K.gguf") + "\n").is_ok());
  const std::vector<std::string> before = blob_files();
  std::string dir = root_ + "/work";
  write_file(dir + "/secret.txt", "SECRET-CONTENT root:x:0:0");
  fs::copy_file(corral::testing::test_data_path("models/stories260K-ctx512.gguf"), dir + "/m.gguf");
  CreateOptions server_mode;
  server_mode.base_dir = dir;
  for (const std::string& from : {dir + "/m.gguf", dir + "/secret.txt", dir + "/missing.gguf", dir,
                                  std::string("./m.gguf"), std::string("../work/m.gguf"), std::string("~/m.gguf"),
                                  std::string("~root/.bashrc"), std::string("C:\\models\\m.gguf")}) {
    auto r = create("p", "FROM " + from + "\n", server_mode);
    ASSERT_FALSE(r.is_ok()) << from;
    EXPECT_EQ(r.error(), kFromPathRefused) << from;
  }
  // A second FROM is checked the same way.
  auto second = create("p", "FROM base\nFROM " + dir + "/m.gguf\n", server_mode);
  EXPECT_EQ(second.error(), kFromPathRefused);
  EXPECT_EQ(blob_files(), before);  // nothing imported
  EXPECT_FALSE(store().resolve("p").is_ok());

  // Names and digests need no file.
  ASSERT_TRUE(create("derived", "FROM base\nSYSTEM s\n", server_mode).is_ok());
  const std::string model_digest = store().resolve("base")->manifest.layers[0].digest.str();
  ASSERT_TRUE(create("byblob", "FROM @" + model_digest + "\n", server_mode).is_ok());

  // A blob that is not GGUF: the error names the blob, never its bytes (nor their hex).
  const std::string junk = put_blob("SECRET-BLOB-BYTES root:x:0:0:root");
  auto r = create("p", "FROM @" + junk + "\n", server_mode);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.error().find("supplied file was not in GGUF format"), std::string::npos) << r.error();
  for (const char* leak : {"SECRET", "root:", "53454352", "0x5345"})
    EXPECT_EQ(r.error().find(leak), std::string::npos) << r.error();
}

TEST_F(CreateTest, LayersLargerThanTheirReadBoundsAreRefused) {
  ASSERT_TRUE(create("base", "FROM " + corral::testing::test_data_path("models/stories260K.gguf") + "\n").is_ok());
  const std::vector<std::string> before = blob_files();
  Modelfile mf;
  mf.from = {"base"};
  mf.system = std::string(kMaxSmallLayerBytes + 1, 'x');
  auto r = create_model(store(), "big", mf, CreateOptions{});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.error().find("system is"), std::string::npos) << r.error().substr(0, 200);
  mf.system.reset();
  mf.template_text = std::string(kMaxSmallLayerBytes + 1, 'x');
  EXPECT_FALSE(create_model(store(), "big", mf, CreateOptions{}).is_ok());
  mf.template_text.reset();
  mf.licenses = {std::string(kMaxLargeLayerBytes + 1, 'x')};
  EXPECT_FALSE(create_model(store(), "big", mf, CreateOptions{}).is_ok());
  EXPECT_EQ(blob_files(), before);
}

}  // namespace
}  // namespace corral::store
