// Model management over HTTP against the real server with a writable store of its own: blob
// upload and check (a mismatch is a 400 and leaves nothing behind), /api/create from uploaded
// files (streamed statuses, stream:false, the legacy Modelfile shape, errors), what /api/show
// reads back, /api/copy and /api/delete with Ollama's status codes and texts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/test_data.h"
#include "server/server_process.h"
#include "store/digest.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<json> ndjson(const std::string& body) {
  std::vector<json> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

class ManageApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() / ("corral-manage-" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    server_ = ServerProcess::start(*dir_).release();
    gguf_ = new std::string(read_file(test_data_path("models/stories260K.gguf")));
    digest_ = new std::string(store::Sha256::of(*gguf_).str());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
    delete gguf_;
    delete digest_;
  }
  static std::string url(const std::string& p) { return server_->url(p); }
  static std::set<std::string> blob_files() {
    std::set<std::string> out;
    if (fs::exists(*dir_ + "/blobs"))
      for (const auto& e : fs::directory_iterator(*dir_ + "/blobs")) out.insert(e.path().filename().string());
    return out;
  }
  static void upload_gguf() {
    auto r = http_request("POST", url("/api/blobs/" + *digest_), *gguf_);
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
  }
  static json show(const std::string& model) {
    auto r = http_post(url("/api/show"), json{{"model", model}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  static std::string* dir_;
  static std::string* gguf_;
  static std::string* digest_;
  static ServerProcess* server_;
};
std::string* ManageApi::dir_ = nullptr;
std::string* ManageApi::gguf_ = nullptr;
std::string* ManageApi::digest_ = nullptr;
ServerProcess* ManageApi::server_ = nullptr;

TEST_F(ManageApi, BlobUploadIsCheckedAndNothingWrongIsKept) {
  const std::string data = "not the bytes the digest names";
  const std::string claimed = store::Sha256::of("something else").str();
  const auto before = blob_files();
  EXPECT_EQ(http_request("HEAD", url("/api/blobs/" + claimed)).status, 404);
  auto bad = http_request("POST", url("/api/blobs/" + claimed), data);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"],
            "digest mismatch, expected \"" + claimed + "\", got \"" + store::Sha256::of(data).str() + "\"");
  EXPECT_EQ(blob_files(), before);  // neither blob nor temp file left
  EXPECT_EQ(http_request("HEAD", url("/api/blobs/" + claimed)).status, 404);

  EXPECT_EQ(http_request("POST", url("/api/blobs/sha256:1234"), data).status, 400);
  EXPECT_EQ(http_request("HEAD", url("/api/blobs/sha256-xyz")).status, 400);

  const std::string good = store::Sha256::of(data).str();
  EXPECT_EQ(http_request("POST", url("/api/blobs/" + good), data).status, 201);
  EXPECT_EQ(http_request("HEAD", url("/api/blobs/" + good)).status, 200);
  EXPECT_EQ(http_request("POST", url("/api/blobs/" + good), data).status, 200);  // already there
}

TEST_F(ManageApi, BlobsLargerThanTheBodyLimitStream) {
  // 40 MiB: over the 32 MiB limit of buffered requests, so this only works streamed.
  std::string big(40u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  const std::string d = store::Sha256::of(big).str();
  auto r = http_request("POST", url("/api/blobs/" + d), big);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(fs::file_size(*dir_ + "/blobs/sha256-" + d.substr(7)), big.size());
}

TEST_F(ManageApi, CreateFromUploadedFileAgreesWithShow) {
  upload_gguf();
  json req{{"model", "teller"},
           {"files", {{"stories260K.gguf", *digest_}}},
           {"template", "{{ .System }} {{ .Prompt }}"},
           {"system", "You tell stories."},
           {"parameters", {{"temperature", 0.25}, {"num_ctx", 256}, {"stop", {"<end>", "\n\n"}}}},
           {"messages", {{{"role", "user"}, {"content", "Hi"}}, {{"role", "assistant"}, {"content", "Hello!"}}}},
           {"license", {"MIT", "Second license"}}};
  auto r = http_post(url("/api/create"), req.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-type"].find("application/x-ndjson"), std::string::npos);
  auto records = ndjson(r.body);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front()["status"], "parsing modelfile");
  EXPECT_EQ(records.back(), json({{"status", "success"}}));
  bool saw_manifest = false;
  for (const auto& rec : records) saw_manifest = saw_manifest || rec["status"] == "writing manifest";
  EXPECT_TRUE(saw_manifest) << r.body;

  json s = show("teller");
  EXPECT_EQ(s["system"], "You tell stories.");
  EXPECT_EQ(s["template"], "{{ .System }} {{ .Prompt }}");
  EXPECT_EQ(s["license"], "MIT\nSecond license");
  const std::string params = s["parameters"];
  EXPECT_NE(params.find("temperature                    0.25"), std::string::npos) << params;
  EXPECT_NE(params.find("num_ctx                        256"), std::string::npos) << params;
  EXPECT_NE(params.find("stop                           \"<end>\""), std::string::npos) << params;
  const std::string mf = s["modelfile"];
  for (const char* l :
       {"\nTEMPLATE {{ .System }} {{ .Prompt }}\n", "\nSYSTEM You tell stories.\n", "\nPARAMETER num_ctx 256\n",
        "\nPARAMETER stop <end>\n", "\nPARAMETER stop \"\n\n\"\n", "\nPARAMETER temperature 0.25\n",
        "\nMESSAGE user Hi\n", "\nMESSAGE assistant Hello!\n", "\nLICENSE MIT\n", "\nLICENSE Second license\n"})
    EXPECT_NE(mf.find(l), std::string::npos) << l << " in\n" << mf;
  EXPECT_EQ(s["details"]["format"], "gguf");
  EXPECT_EQ(s["details"]["family"], "llama");

  // The created model serves.
  auto gen = http_post(url("/api/generate"),
                       R"({"model":"teller","prompt":"Once","stream":false,"options":{"num_predict":4}})");
  EXPECT_EQ(gen.status, 200) << gen.body;
}

TEST_F(ManageApi, CreateNonStreamingAndFromAModel) {
  upload_gguf();
  auto base = http_post(url("/api/create"),
                        json{{"model", "base"}, {"files", {{"m.gguf", *digest_}}}, {"stream", false}}.dump());
  ASSERT_EQ(base.status, 200) << base.body;
  EXPECT_EQ(json::parse(base.body), json({{"status", "success"}}));
  auto derived =
      http_post(url("/api/create"),
                json{{"model", "derived"}, {"from", "base"}, {"system", "Be brief."}, {"stream", false}}.dump());
  ASSERT_EQ(derived.status, 200) << derived.body;
  EXPECT_EQ(show("derived")["system"], "Be brief.");
  // Inherited weights: the same model blob.
  EXPECT_EQ(show("derived")["model_info"]["general.architecture"], "llama");
}

TEST_F(ManageApi, LegacyModelfileShape) {
  // The Modelfile's text in "modelfile"; its FROM names an uploaded blob (never a server path:
  // create_security_test.cc).
  upload_gguf();
  auto r = http_post(
      url("/api/create"),
      json{{"name", "legacy"}, {"modelfile", "FROM @" + *digest_ + "\nSYSTEM \"\"\"Old style.\"\"\"\n"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ndjson(r.body).back(), json({{"status", "success"}}));
  EXPECT_EQ(show("legacy")["system"], "Old style.");
  // JSON fields apply on top of the Modelfile's instructions.
  auto on_top = http_post(url("/api/create"), json{{"name", "legacy2"},
                                                   {"modelfile", "FROM legacy\nSYSTEM from the file\n"},
                                                   {"system", "from JSON"},
                                                   {"stream", false}}
                                                  .dump());
  ASSERT_EQ(on_top.status, 200) << on_top.body;
  EXPECT_EQ(show("legacy2")["system"], "from JSON");
}

TEST_F(ManageApi, CreateErrors) {
  auto err = [](const HttpResponse& r) { return json::parse(r.body).value("error", ""); };
  // Parse errors name their line.
  auto parse = http_post(url("/api/create"), json{{"name", "x"}, {"modelfile", "FROM a\nFORM b\n"}}.dump());
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(err(parse).rfind("line 2: ", 0), 0u) << parse.body;
  auto quant = http_post(url("/api/create"), json{{"model", "x"}, {"from", "base"}, {"quantize", "q4_K_M"}}.dump());
  EXPECT_EQ(quant.status, 400);
  EXPECT_EQ(err(quant), "quantization is not supported yet");
  auto neither = http_post(url("/api/create"), json{{"model", "x"}}.dump());
  EXPECT_EQ(neither.status, 400);
  EXPECT_EQ(err(neither), "neither 'from' or 'files' was specified");
  auto name = http_post(url("/api/create"), json{{"model", "bad/name/with/many/parts"}, {"from", "base"}}.dump());
  EXPECT_EQ(name.status, 400);
  EXPECT_EQ(err(name), "invalid model name");
  const std::string absent = store::Sha256::of("never uploaded").str();
  auto blob = http_post(url("/api/create"), json{{"model", "x"}, {"files", {{"a.gguf", absent}}}}.dump());
  EXPECT_EQ(blob.status, 400);
  EXPECT_NE(err(blob).find("not found"), std::string::npos) << blob.body;
  auto param =
      http_post(url("/api/create"), json{{"model", "x"}, {"from", "base"}, {"parameters", {{"temprature", 1}}}}.dump());
  EXPECT_EQ(param.status, 400);
  EXPECT_EQ(err(param), "unknown parameter 'temprature'");
  auto bad_json = http_post(url("/api/create"), "{not json");
  EXPECT_EQ(bad_json.status, 400);
  // Failures after the stream started end it with an error record.
  auto unknown = http_post(url("/api/create"), json{{"model", "x"}, {"from", "no-such-model"}}.dump());
  EXPECT_EQ(unknown.status, 200);
  auto recs = ndjson(unknown.body);
  ASSERT_FALSE(recs.empty());
  EXPECT_TRUE(recs.back().contains("error")) << unknown.body;
  auto unknown_sync =
      http_post(url("/api/create"), json{{"model", "x"}, {"from", "no-such-model"}, {"stream", false}}.dump());
  EXPECT_EQ(unknown_sync.status, 400);
  EXPECT_NE(err(unknown_sync).find("no-such-model"), std::string::npos);
  // A bad TEMPLATE is refused before anything is written.
  upload_gguf();
  auto tmpl = http_post(
      url("/api/create"),
      json{{"model", "x"}, {"files", {{"m.gguf", *digest_}}}, {"template", "{{ .Prompt "}, {"stream", false}}.dump());
  EXPECT_EQ(tmpl.status, 400);
  EXPECT_EQ(err(tmpl).rfind("template error: ", 0), 0u) << tmpl.body;
  auto tags = json::parse(http_get(url("/api/tags")).body);
  for (const auto& m : tags["models"]) EXPECT_NE(m["name"], "x:latest");
}

TEST_F(ManageApi, CopyAndDelete) {
  upload_gguf();
  ASSERT_EQ(http_post(url("/api/create"),
                      json{{"model", "orig"}, {"files", {{"m.gguf", *digest_}}}, {"stream", false}}.dump())
                .status,
            200);
  auto cp = http_post(url("/api/copy"), R"({"source":"orig","destination":"copy:v2"})");
  EXPECT_EQ(cp.status, 200) << cp.body;
  auto tags = json::parse(http_get(url("/api/tags")).body);
  std::map<std::string, std::string> digests;
  for (const auto& m : tags["models"]) digests[m["name"]] = m["digest"];
  ASSERT_TRUE(digests.count("copy:v2"));
  EXPECT_EQ(digests["copy:v2"], digests["orig:latest"]);

  auto missing = http_post(url("/api/copy"), R"({"source":"nope","destination":"x"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["error"], "model \"nope\" not found");
  auto invalid = http_post(url("/api/copy"), R"({"source":"orig","destination":"a/b/c/d/e"})");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(json::parse(invalid.body)["error"], "destination \"a/b/c/d/e\" is invalid");

  auto del = http_request("DELETE", url("/api/delete"), R"({"model":"copy:v2"})");
  EXPECT_EQ(del.status, 200) << del.body;
  auto again = http_request("DELETE", url("/api/delete"), R"({"model":"copy:v2"})");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(json::parse(again.body)["error"], "model 'copy:v2' not found");
  EXPECT_EQ(http_request("DELETE", url("/api/delete"), "").status, 400);
  // The original and its blobs survive the copy's deletion.
  EXPECT_EQ(show("orig")["details"]["format"], "gguf");
}

}  // namespace
}  // namespace corral::testing
