// One corral pulls from another: server A serves its store as a registry, server B pulls with
// POST /api/pull and then lists and runs the model.
#include <gtest/gtest.h>

#include "common/http_client.h"
#include "common/test_data.h"
#include "registry/http_client.h"
#include "registry/servers.h"
#include "registry/test_util.h"
#include "server/server_process.h"
#include "store/store.h"

namespace corral::testing {
namespace {

using nlohmann::json;

class PullFromCorral : public ::testing::Test {
 protected:
  void SetUp() override {
    create_tiny(a_dir_.path());
    a_ = ServerProcess::start(a_dir_.path());
    b_ = ServerProcess::start(b_dir_.path());
    ASSERT_TRUE(a_ && b_);
  }
  std::string name(const std::string& model) const {
    return "127.0.0.1:" + std::to_string(a_->port()) + "/library/" + model + ":latest";
  }
  store::Manifest manifest_of(const std::string& dir, const std::string& n) const {
    auto m = store::Store(dir).read_manifest(*store::ModelName::parse(n));
    EXPECT_TRUE(m.is_ok()) << m.error();
    return m.is_ok() ? *m : store::Manifest{};
  }
  std::string generate(ServerProcess& s, const std::string& model) const {
    json body{{"model", model},
              {"prompt", "Once upon a time"},
              {"stream", false},
              {"options", {{"num_predict", 8}, {"temperature", 0}, {"seed", 1}}}};
    auto r = http_post(s.url("/api/generate"), body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("response", "");
  }

  TempDir a_dir_, b_dir_;
  std::unique_ptr<ServerProcess> a_, b_;
};

TEST_F(PullFromCorral, PullsVerifiesListsAndRuns) {
  auto r = http_post(b_->url("/api/pull"), transfer_body(name("tiny")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/x-ndjson");
  auto lines = ndjson(r.body);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), (json{{"status", "pulling manifest"}}));
  EXPECT_EQ(lines.back(), (json{{"status", "success"}}));

  // Ollama's records: every blob as "pulling <12 hex>" with its digest and size, up to complete.
  const store::Manifest ma = manifest_of(a_dir_.path(), "tiny");
  for (const store::Layer& l : [&] {
         auto all = ma.layers;
         all.push_back(ma.config);
         return all;
       }()) {
    bool started = false, done = false;
    for (const json& j : lines) {
      if (j.value("digest", "") != l.digest.str()) continue;
      EXPECT_EQ(j["status"], "pulling " + l.digest.hex().substr(0, 12));
      EXPECT_EQ(j["total"], l.size);
      started = true;
      done = done || j.value("completed", int64_t{0}) == l.size;
    }
    EXPECT_TRUE(started && done) << l.digest.str();
  }
  std::vector<std::string> plain;
  for (const json& j : lines)
    if (!j.contains("digest")) plain.push_back(j["status"]);
  EXPECT_EQ(plain,
            (std::vector<std::string>{"pulling manifest", "verifying sha256 digest", "writing manifest", "success"}));

  // B has the same model, every blob hashing to its name, and nothing left over.
  const store::Manifest mb = manifest_of(b_dir_.path(), name("tiny"));
  EXPECT_EQ(mb.digests(), ma.digests());
  store::Store sb(b_dir_.path());
  for (const store::Digest& d : mb.digests()) EXPECT_EQ(file_digest(sb.blob_path(d)), d);
  EXPECT_EQ(files_in(b_dir_.path() + "/blobs"), committed_blobs(b_dir_.path()));

  auto tags = json::parse(http_get(b_->url("/api/tags")).body);
  ASSERT_EQ(tags["models"].size(), 1u);
  EXPECT_EQ(tags["models"][0]["name"], name("tiny"));

  const std::string text = generate(*b_, name("tiny"));
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text, generate(*a_, "tiny"));
}

TEST_F(PullFromCorral, APullOfWhatIsThereDownloadsNothing) {
  ASSERT_EQ(http_post(b_->url("/api/pull"), transfer_body(name("tiny"))).status, 200);
  const size_t mark = a_->log().size();
  auto r = http_post(b_->url("/api/pull"), transfer_body(name("tiny"), /*stream=*/false));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), (json{{"status", "success"}}));
  EXPECT_EQ(a_->log().find("registry: sent", mark), std::string::npos) << a_->log().substr(mark);
}

TEST_F(PullFromCorral, ErrorsAreOllamas) {
  auto bad = http_post(b_->url("/api/pull"), R"({"model":"../../etc/passwd"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body), (json{{"error", "invalid model name"}}));
  EXPECT_EQ(http_post(b_->url("/api/pull"), "").status, 400);
  EXPECT_EQ(http_post(b_->url("/api/pull"), R"({"model":"x","insecure":"yes"})").status, 400);

  auto missing = http_post(b_->url("/api/pull"), transfer_body(name("nothing")));
  ASSERT_EQ(missing.status, 200);
  EXPECT_EQ(ndjson(missing.body).back(), (json{{"error", "pull model manifest: file does not exist"}}));
  auto quiet = http_post(b_->url("/api/pull"), transfer_body(name("nothing"), false));
  EXPECT_EQ(quiet.status, 500);
  EXPECT_EQ(json::parse(quiet.body), (json{{"error", "pull model manifest: file does not exist"}}));

  json plain{{"model", "http://" + name("tiny")}};
  auto insecure = http_post(b_->url("/api/pull"), plain.dump());
  EXPECT_EQ(ndjson(insecure.body).back(), (json{{"error", "insecure protocol http"}}));
  EXPECT_TRUE(all_files(b_dir_.path()).empty());
}

TEST_F(PullFromCorral, TheRegistrySideSpeaksTheProtocol) {
  using registry::http_perform;
  using registry::HttpRequest;
  auto get = [&](const std::string& path, std::vector<std::pair<std::string, std::string>> headers = {},
                 const std::string& method = "GET") {
    HttpRequest req;
    req.method = method;
    req.url = a_->url(path);
    req.headers = std::move(headers);
    req.max_response_bytes = 64 << 20;
    auto r = http_perform(req);
    EXPECT_TRUE(r.is_ok()) << r.error();
    return r.is_ok() ? *r : registry::HttpResponse{};
  };
  auto root = get("/v2/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, "{}");

  store::Store sa(a_dir_.path());
  auto found = sa.find(*store::ModelName::parse("tiny"));
  const std::string manifest_bytes = read_file(sa.manifest_path(*found));
  auto m =
      get("/v2/library/tiny/manifests/latest", {{"Accept", "application/vnd.docker.distribution.manifest.v2+json"}});
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, manifest_bytes);
  EXPECT_EQ(m.header("content-type"), "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(m.header("docker-content-digest"), store::Sha256::of(manifest_bytes).str());
  auto mh = get("/v2/library/tiny/manifests/latest", {}, "HEAD");
  EXPECT_EQ(mh.header("content-length"), std::to_string(manifest_bytes.size()));
  EXPECT_EQ(get("/v2/library/nothing/manifests/latest").status, 404);
  EXPECT_EQ(get("/v2/%2E%2E/tiny/manifests/latest").status, 400);

  const store::Layer layer = manifest_of(a_dir_.path(), "tiny").layers[0];
  const std::string blob = read_file(sa.blob_path(layer.digest));
  const std::string url = "/v2/library/tiny/blobs/" + layer.digest.str();
  auto part = get(url, {{"Range", "bytes=10-19"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, blob.substr(10, 10));
  EXPECT_EQ(part.header("content-range"), "bytes 10-19/" + std::to_string(blob.size()));
  auto whole = get(url);
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, blob);
  EXPECT_EQ(whole.header("docker-content-digest"), layer.digest.str());
  EXPECT_EQ(get(url, {}, "HEAD").header("content-length"), std::to_string(blob.size()));
  auto beyond = get(url, {{"Range", "bytes=" + std::to_string(blob.size()) + "-"}});
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.header("content-range"), "bytes */" + std::to_string(blob.size()));

  EXPECT_EQ(get("/v2/library/tiny/blobs/sha256:zz").status, 400);
  EXPECT_EQ(get("/v2/library/tiny/blobs/sha256%3A..%2F..%2Fetc%2Fpasswd").status, 400);
  EXPECT_EQ(get("/v2/library/tiny/blobs/sha256:../../etc/passwd").status, 404);  // no such route
  EXPECT_EQ(get("/v2/library/tiny/blobs/sha256:" + std::string(64, 'e')).status, 404);
}

}  // namespace
}  // namespace corral::testing
