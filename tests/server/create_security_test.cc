// /api/create never opens a path a request names (as Ollama's server, which takes uploaded blobs
// and model names only). Each attack is sent as HTTP to the real server: "path":"/etc/passwd",
// a legacy "modelfile" with FROM /etc/passwd, FROM of an existing file vs a missing one vs a
// folder (one answer for all: no existence oracle), FROM of a GGUF outside the store (nothing is
// imported, the store is unchanged), and blobs that are not GGUF (no bytes, no hex in the error).
// Then: every field of a wrong JSON type is a 400 naming it, and every size is bounded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/test_data.h"
#include "server/server_process.h"
#include "store/digest.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Bytes no answer may contain: file contents the client did not send, and their hex (as the
// GGUF magic check printed it: 4 bytes as a little-endian u32, and in file order).
const std::vector<std::string> kLeaks = {"root:", "SECRET", "53454352", "52434553", "726f6f74", "746f6f72", "0x"};

class CreateSecurity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() / ("corral-create-sec-" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_ + "/store");
    fs::create_directories(*dir_ + "/outside");
    // Files the server can read but no client sent: a secret, a GGUF outside the store, a folder.
    std::ofstream(*dir_ + "/outside/secret.txt") << "SECRET-CONTENT root:x:0:0:root:/root:/bin/bash\n";
    // A GGUF no test of this suite uploads, so its blob must stay absent.
    fs::copy_file(test_data_path("models/stories260K-ctx512.gguf"), *dir_ + "/outside/model.gguf");
    server_ = ServerProcess::start(*dir_ + "/store").release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string url(const std::string& p) { return server_->url(p); }
  static std::string outside(const std::string& name) { return *dir_ + "/outside/" + name; }

  // Every file under the store, with its size: what "the store is unchanged" compares.
  static std::set<std::string> store_files() {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(*dir_ + "/store")) {
      if (e.is_regular_file()) out.insert(e.path().string() + " " + std::to_string(e.file_size()));
    }
    return out;
  }
  static HttpResponse create(const json& body) { return http_post(url("/api/create"), body.dump()); }
  static std::string error_of(const HttpResponse& r) {
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("error", "") : "";
  }
  static void expect_no_leak(const HttpResponse& r) {
    for (const std::string& leak : kLeaks) EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " in " << r.body;
  }
  // The blob's first 4 bytes in hex, in file order and as a little-endian u32.
  static std::vector<std::string> first_bytes_hex(const std::string& digest) {
    const std::string bytes = read_file(*dir_ + "/store/blobs/sha256-" + digest.substr(7)).substr(0, 4);
    std::string in_order, reversed;
    for (size_t i = 0; i < bytes.size(); ++i) {
      in_order += fmt::format("{:02x}", static_cast<unsigned char>(bytes[i]));
      reversed += fmt::format("{:02x}", static_cast<unsigned char>(bytes[bytes.size() - 1 - i]));
    }
    return {in_order, reversed};
  }
  static std::string upload(const std::string& bytes) {
    const std::string d = store::Sha256::of(bytes).str();
    auto r = http_request("POST", url("/api/blobs/" + d), bytes);
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    return d;
  }

  static std::string* dir_;
  static ServerProcess* server_;
};
std::string* CreateSecurity::dir_ = nullptr;
ServerProcess* CreateSecurity::server_ = nullptr;

TEST_F(CreateSecurity, PathFieldIsRefusedWithoutReadingIt) {
  const auto before = store_files();
  auto passwd = create({{"model", "p1"}, {"path", "/etc/passwd"}});
  EXPECT_EQ(passwd.status, 400) << passwd.body;
  expect_no_leak(passwd);
  EXPECT_EQ(passwd.body.find("passwd"), std::string::npos) << passwd.body;  // no server path named
  EXPECT_NE(error_of(passwd).find("\"path\" is not supported"), std::string::npos) << passwd.body;
  // The same answer for a secret, a missing file, a folder, and with a "modelfile" beside it.
  for (const json& body :
       {json{{"model", "p1"}, {"path", outside("secret.txt")}},
        json{{"model", "p1"}, {"path", outside("no-such-file")}}, json{{"model", "p1"}, {"path", *dir_ + "/outside"}},
        json{{"model", "p1"}, {"path", "/etc/passwd"}, {"modelfile", "FROM base"}},
        json{{"name", "p1"}, {"path", "Modelfile"}, {"stream", false}}}) {
    auto r = create(body);
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_EQ(r.body, passwd.body) << body.dump();
  }
  EXPECT_EQ(store_files(), before);
}

TEST_F(CreateSecurity, FromPathGetsOneAnswerWhetherTheFileExistsOrNot) {
  const auto before = store_files();
  auto passwd = create({{"model", "p2"}, {"modelfile", "FROM /etc/passwd\n"}});
  EXPECT_EQ(passwd.status, 400) << passwd.body;
  expect_no_leak(passwd);
  EXPECT_EQ(passwd.body.find("passwd"), std::string::npos) << passwd.body;
  EXPECT_NE(error_of(passwd).find("FROM must name a model or an uploaded blob"), std::string::npos) << passwd.body;
  // An existing file, a missing one, a folder, a GGUF, relative and home paths: one text, no oracle.
  const std::vector<std::string> froms = {
      outside("secret.txt"), outside("missing.gguf"), *dir_ + "/outside", outside("model.gguf"), "/root/.bashrc",
      "./model.gguf",        "../outside/model.gguf", "~/.bashrc",        "~root/.bashrc",       "/etc"};
  for (const std::string& from : froms) {
    for (bool stream : {true, false}) {
      auto r = create({{"model", "p2"}, {"modelfile", "FROM " + from + "\nSYSTEM x\n"}, {"stream", stream}});
      EXPECT_EQ(r.status, 400) << from;
      EXPECT_EQ(r.body, passwd.body) << from;
    }
    // The same FROM as a second line, and in the current shape's "from".
    auto second = create({{"model", "p2"}, {"modelfile", "FROM base\nFROM " + from + "\n"}});
    EXPECT_EQ(second.body, passwd.body) << from;
    auto current = create({{"model", "p2"}, {"from", from}});
    EXPECT_EQ(current.status, 400) << from;
    EXPECT_EQ(current.body, passwd.body) << from;
  }
  EXPECT_EQ(store_files(), before);
}

TEST_F(CreateSecurity, GgufOutsideTheStoreIsNotImported) {
  const auto before = store_files();
  const std::string digest = store::Sha256::of(read_file(outside("model.gguf"))).str();
  ASSERT_EQ(http_request("HEAD", url("/api/blobs/" + digest)).status, 404);
  for (const json& body :
       {json{{"model", "p3"}, {"modelfile", "FROM " + outside("model.gguf") + "\n"}},
        json{{"model", "p3"}, {"modelfile", "FROM " + test_data_path("models/stories260K.gguf") + "\n"}},
        json{{"model", "p3"}, {"from", outside("model.gguf")}, {"stream", false}}}) {
    auto r = create(body);
    EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r.body;
    expect_no_leak(r);
  }
  EXPECT_EQ(store_files(), before);
  EXPECT_EQ(http_request("HEAD", url("/api/blobs/" + digest)).status, 404);  // not served, nothing to push
  EXPECT_EQ(http_post(url("/api/show"), R"({"model":"p3"})").status, 404);
  EXPECT_EQ(http_get(url("/api/tags")).body.find("p3"), std::string::npos);
}

TEST_F(CreateSecurity, ModelNamesAndUploadedBlobsStillWork) {
  const std::string gguf = read_file(test_data_path("models/stories260K.gguf"));
  const std::string digest = upload(gguf);
  auto base = create({{"model", "base"}, {"files", {{"stories260K.gguf", digest}}}, {"stream", false}});
  ASSERT_EQ(base.status, 200) << base.body;
  // A legacy "modelfile" whose FROM is a model name or a blob digest is read.
  auto legacy =
      create({{"name", "legacy"}, {"modelfile", "FROM base\nSYSTEM \"\"\"Old style.\"\"\"\n"}, {"stream", false}});
  ASSERT_EQ(legacy.status, 200) << legacy.body;
  auto blob = create({{"name", "legacy-blob"}, {"modelfile", "FROM @" + digest + "\n"}, {"stream", false}});
  ASSERT_EQ(blob.status, 200) << blob.body;
  auto show = json::parse(http_post(url("/api/show"), R"({"model":"legacy"})").body);
  EXPECT_EQ(show["system"], "Old style.");
}

TEST_F(CreateSecurity, BlobsThatAreNotGgufAreNamedNotQuoted) {
  // Uploaded by this client, and a blob of the store it never sent (a model's config JSON).
  const std::string junk = upload("SECRET-UPLOADED root:x:0:0 not a gguf");
  const std::string gguf_digest = upload(read_file(test_data_path("models/stories260K.gguf")));
  ASSERT_EQ(create({{"model", "cfg-src"}, {"files", {{"m.gguf", gguf_digest}}}, {"stream", false}}).status, 200);
  auto manifest = json::parse(read_file(*dir_ + "/store/manifests/registry.ollama.ai/library/cfg-src/latest"));
  const std::string config = manifest["config"]["digest"];
  for (const std::string& d : {junk, config}) {
    for (const json& body : {json{{"model", "nb"}, {"files", {{"x.gguf", d}}}, {"stream", false}},
                             json{{"model", "nb"}, {"from", d}, {"stream", false}},
                             json{{"model", "nb"}, {"modelfile", "FROM @" + d}, {"stream", false}},
                             json{{"model", "nb"}, {"files", {{"x.gguf", d}}}}}) {
      auto r = create(body);
      EXPECT_NE(r.body.find("supplied file was not in GGUF format"), std::string::npos) << r.body;
      expect_no_leak(r);
      EXPECT_EQ(r.body.find("model_format"), std::string::npos) << r.body;
      for (const std::string& hex : first_bytes_hex(d))
        EXPECT_EQ(r.body.find(hex), std::string::npos) << hex << " in " << r.body;
    }
  }
  EXPECT_EQ(http_post(url("/api/show"), R"({"model":"nb"})").status, 404);
}

TEST_F(CreateSecurity, WrongTypesNameTheField) {
  const std::string d = store::Sha256::of("x").str();
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"model", 1}, {"from", "base"}}, "model must be a string"},
      {{{"name", true}, {"from", "base"}}, "name must be a string"},
      {{{"model", "x"}, {"from", 5}}, "from must be a string"},
      {{{"model", "x"}, {"from", "base"}, {"stream", "yes"}}, "stream must be a boolean"},
      {{{"model", "x"}, {"files", json::array({d})}}, "files must be an object"},
      {{{"model", "x"}, {"files", "m.gguf"}}, "files must be an object"},
      {{{"model", "x"}, {"files", {{"m.gguf", 7}}}}, "files[\"m.gguf\"] must be a digest string"},
      {{{"model", "x"}, {"from", "base"}, {"adapters", "a.gguf"}}, "adapters must be an object"},
      {{{"model", "x"}, {"from", "base"}, {"template", 1}}, "template must be a string"},
      {{{"model", "x"}, {"from", "base"}, {"system", json::array()}}, "system must be a string"},
      {{{"model", "x"}, {"from", "base"}, {"parameters", json::array()}}, "parameters must be an object"},
      {{{"model", "x"}, {"from", "base"}, {"parameters", {{"temperature", {{"a", 1}}}}}},
       "parameters.temperature must be"},
      {{{"model", "x"}, {"from", "base"}, {"messages", json::object()}}, "messages must be an array"},
      {{{"model", "x"}, {"from", "base"}, {"messages", {1}}}, "messages[0] must be an object"},
      {{{"model", "x"}, {"from", "base"}, {"messages", {{{"role", 1}, {"content", "hi"}}}}},
       "messages[0].role must be a string"},
      {{{"model", "x"}, {"from", "base"}, {"messages", {{{"role", "user"}, {"content", {1}}}}}},
       "messages[0].content must be a string"},
      {{{"model", "x"}, {"from", "base"}, {"license", 1}}, "license must be a string or an array of strings"},
      {{{"model", "x"}, {"from", "base"}, {"license", {1}}}, "license must be a string or an array of strings"},
      {{{"model", "x"}, {"from", "base"}, {"quantize", 4}}, "quantize must be a string"},
      {{{"model", "x"}, {"modelfile", 1}}, "modelfile must be a string"},
      {{{"model", "x"}, {"from", "base"}, {"renderer", 1}}, "renderer must be a string"},
      {{{"model", "x"}, {"from", "base"}, {"parser", 1}}, "parser must be a string"},
      {{{"model", "x"}, {"from", "base"}, {"requires", 1}}, "requires must be a string"},
  };
  for (const auto& [body, want] : cases) {
    auto r = create(body);
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_NE(error_of(r).find(want), std::string::npos) << body.dump() << " -> " << r.body;
  }
}

TEST_F(CreateSecurity, SizesAreBoundedAndUnsupportedFieldsSaySo) {
  const auto before = store_files();
  const std::string d = store::Sha256::of("never uploaded").str();
  json many_files = json::object();
  for (int i = 0; i < 1025; ++i) many_files["f" + std::to_string(i) + ".gguf"] = d;
  json many_messages = json::array();
  for (int i = 0; i < 4097; ++i) many_messages.push_back({{"role", "user"}, {"content", "hi"}});
  json many_stops = json::array();
  for (int i = 0; i < 1025; ++i) many_stops.push_back("s" + std::to_string(i));
  const std::string long_name(5000, 'a');
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"model", "x"}, {"files", many_files}}, "too many files: 1025 exceeds maximum 1024"},
      {{{"model", "x"}, {"from", "base"}, {"messages", many_messages}}, "messages has 4097 entries"},
      {{{"model", "x"}, {"from", "base"}, {"parameters", {{"stop", many_stops}}}},
       "parameters hold more than 1024 values"},
      {{{"model", "x"}, {"from", "base"}, {"messages", {{{"role", "user"}, {"content", std::string(9 << 20, 'c')}}}}},
       "messages are 9437"},
      {{{"model", "x"}, {"from", "base"}, {"template", std::string((1 << 20) + 1, 't')}}, "template is 1048577 bytes"},
      {{{"model", "x"}, {"from", "base"}, {"system", std::string((1 << 20) + 1, 's')}}, "system is 1048577 bytes"},
      {{{"model", "x"}, {"from", "base"}, {"license", std::vector<std::string>(65, "MIT")}}, "license has 65 entries"},
      {{{"model", "x"}, {"from", std::string(2000, 'm')}}, "from is 2000 bytes"},
      {{{"model", "x"}, {"files", {{"../../etc/passwd", d}}}}, "file path must be relative"},
      {{{"model", "x"}, {"files", {{"/etc/passwd", d}}}}, "file path must be relative"},
      {{{"model", "x"}, {"files", {{long_name, d}}}}, "file path must be relative"},
      {{{"model", "x"}, {"files", {{"m.gguf", "not-a-digest"}}}}, "invalid digest format"},
      {{{"model", "x"}, {"from", "base"}, {"adapters", {{"lora.gguf", d}}}}, "adapters are not supported yet"},
      {{{"model", "x"}, {"from", "base"}, {"quantize", "q4_K_M"}}, "quantization is not supported yet"},
      {{{"model", "x"}, {"modelfile", "FROM base\n" + std::string(3 << 20, '#')}}, "line is longer than"},
      {{{"model", "x"}, {"modelfile", "FROM base\nADAPTER ./lora.gguf\n"}}, "ADAPTER is not supported yet"},
  };
  for (const auto& [body, want] : cases) {
    auto r = create(body);
    EXPECT_EQ(r.status, 400) << body.dump().substr(0, 200);
    EXPECT_NE(error_of(r).find(want), std::string::npos)
        << body.dump().substr(0, 200) << " -> " << r.body.substr(0, 300);
    EXPECT_LT(r.body.size(), 1000u);  // an error quotes nothing large
  }
  EXPECT_EQ(store_files(), before);
}

}  // namespace
}  // namespace corral::testing
