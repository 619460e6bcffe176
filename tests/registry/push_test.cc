// Push: B uploads a model into A's store over the registry protocol, and it pulls back out; the
// write side refuses uploads that do not verify and manifests that name what is not there.
#include <gtest/gtest.h>

#include "common/http_client.h"
#include "common/test_data.h"
#include "registry/fake_registry.h"
#include "registry/http_client.h"
#include "registry/push.h"
#include "registry/servers.h"
#include "registry/test_util.h"
#include "server/server_process.h"
#include "store/store.h"

namespace corral::testing {
namespace {

using nlohmann::json;

std::string registry_name(const ServerProcess& a, const std::string& model) {
  return "127.0.0.1:" + std::to_string(a.port()) + "/library/" + model + ":latest";
}

registry::HttpResponse call(const std::string& method, const std::string& url, std::string body = "",
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
  registry::HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = std::move(body);
  req.headers = std::move(headers);
  auto r = registry::http_perform(req);
  EXPECT_TRUE(r.is_ok()) << r.error();
  return r.is_ok() ? *r : registry::HttpResponse{};
}

std::string error_code(const registry::HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("errors") ? j["errors"][0].value("code", "") : "";
}

TEST(Push, APushedModelLandsInTheRegistryAndPullsBack) {
  TempDir a_dir, b_dir, c_dir;
  auto a = ServerProcess::start(a_dir.path());
  ASSERT_TRUE(a);
  const std::string name = registry_name(*a, "pushed");
  create_tiny(b_dir.path());
  ASSERT_TRUE(store::Store(b_dir.path()).copy("tiny", name).is_ok());  // as `ollama cp` before a push
  auto b = ServerProcess::start(b_dir.path());
  ASSERT_TRUE(b);

  auto r = http_post(b->url("/api/push"), transfer_body(name));
  ASSERT_EQ(r.status, 200);
  auto lines = ndjson(r.body);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), (json{{"status", "retrieving manifest"}}));
  EXPECT_EQ(lines.back(), (json{{"status", "success"}})) << r.body;
  const store::Manifest mb = *store::Store(b_dir.path()).read_manifest(*store::ModelName::parse(name));
  for (const store::Digest& d : mb.digests()) {
    bool done = false;
    for (const json& j : lines) {
      if (j.value("digest", "") != d.str()) continue;
      EXPECT_EQ(j["status"], "pushing " + d.hex().substr(0, 12));
      done = done || j.value("completed", int64_t{-1}) == j.value("total", int64_t{-2});
    }
    EXPECT_TRUE(done) << d.str();
  }

  // A has it as library/pushed:latest, every blob verified, no upload left behind.
  auto tags = json::parse(http_get(a->url("/api/tags")).body);
  ASSERT_EQ(tags["models"].size(), 1u);
  EXPECT_EQ(tags["models"][0]["name"], "pushed:latest");
  store::Store sa(a_dir.path());
  const store::Manifest ma = *sa.read_manifest(*store::ModelName::parse("pushed"));
  EXPECT_EQ(ma.digests(), mb.digests());
  for (const store::Digest& d : ma.digests()) EXPECT_EQ(file_digest(sa.blob_path(d)), d);
  EXPECT_EQ(files_in(a_dir.path() + "/blobs"), committed_blobs(a_dir.path()));

  // Pushing again finds every blob there already.
  EXPECT_EQ(ndjson(http_post(b->url("/api/push"), transfer_body(name)).body).back(), (json{{"status", "success"}}));

  // A third server pulls it back and runs it.
  auto c = ServerProcess::start(c_dir.path());
  ASSERT_TRUE(c);
  auto pulled = http_post(c->url("/api/pull"), transfer_body(name, false));
  ASSERT_EQ(pulled.status, 200) << pulled.body;
  json gen{{"model", name}, {"prompt", "Once"}, {"stream", false}, {"options", {{"num_predict", 4}}}};
  EXPECT_EQ(http_post(c->url("/api/generate"), gen.dump()).status, 200);
}

TEST(Push, LargeBlobsGoUpInChunks) {
  TempDir a_dir, local;
  auto a = ServerProcess::start(a_dir.path());
  ASSERT_TRUE(a);
  create_tiny(local.path());
  const store::Digest big = add_big_model(local.path(), "big", 3 << 20, 5);
  store::Store s(local.path());
  const std::string name = registry_name(*a, "chunked");
  ASSERT_TRUE(s.copy("big", name).is_ok());

  std::vector<int64_t> progress;
  registry::CancelFlag cancel{false};
  registry::PushOptions opt{.insecure = true, .chunk_bytes = 1 << 20};
  Status st = registry::push_model(
      s, name, opt,
      [&](const registry::Progress& p) {
        if (p.digest == big.str()) progress.push_back(p.completed);
      },
      cancel);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(progress, (std::vector<int64_t>{0, 1 << 20, 2 << 20, 3 << 20, 3 << 20}));
  store::Store sa(a_dir.path());
  EXPECT_EQ(file_digest(sa.blob_path(big)), big);
  EXPECT_TRUE(sa.find(*store::ModelName::parse("chunked")).is_ok());
}

TEST(Push, TheWriteSideRefusesWhatDoesNotVerify) {
  TempDir a_dir;
  auto a = ServerProcess::start(a_dir.path());
  ASSERT_TRUE(a);
  auto started = call("POST", a->url("/v2/library/x/blobs/uploads/"));
  ASSERT_EQ(started.status, 202);
  const std::string location = a->url(started.header("location"));
  ASSERT_NE(started.header("location").find("/v2/library/x/blobs/uploads/"), std::string::npos);

  EXPECT_EQ(call("PATCH", location, "hello", {{"Content-Range", "5-9"}}).status, 416);  // not where it stands
  EXPECT_EQ(call("PATCH", location, "hello", {{"Content-Range", "0-9"}}).status, 416);  // not the body's size
  auto patched = call("PATCH", location, "hello", {{"Content-Range", "0-4"}});
  EXPECT_EQ(patched.status, 202);
  EXPECT_EQ(patched.header("range"), "0-4");
  auto wrong = call("PUT", location + "?digest=" + store::Sha256::of("other").str());
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(error_code(wrong), "DIGEST_INVALID");
  EXPECT_EQ(call("PUT", location + "?digest=" + store::Sha256::of("hello").str()).status, 404);  // the session ended
  EXPECT_TRUE(files_in(a_dir.path() + "/blobs").empty()) << "nothing kept, not even a temp file";
  EXPECT_EQ(call("PATCH", a->url("/v2/library/x/blobs/uploads/not-an-id"), "x").status, 404);
  EXPECT_EQ(call("POST", a->url("/v2/library/x/blobs/uploads/?digest=sha256:..%2F..%2Fetc")).status, 400);

  // A monolithic upload, then a mount of what is there.
  const store::Digest d = store::Sha256::of("hello");
  EXPECT_EQ(call("POST", a->url("/v2/library/x/blobs/uploads/?digest=" + d.str()), "hello").status, 201);
  EXPECT_EQ(committed_blobs(a_dir.path()), (std::vector<std::string>{d.file_name()}));
  EXPECT_EQ(call("POST", a->url("/v2/library/y/blobs/uploads/?mount=" + d.str() + "&from=library/x")).status, 201);

  // Manifests: validated, and every blob must be there with the size the manifest gives.
  const std::string url = a->url("/v2/library/x/manifests/latest");
  auto passwd = call("PUT", url, manifest_json({{"sha256:../../etc/passwd", 5}}));
  EXPECT_EQ(passwd.status, 400);
  EXPECT_EQ(error_code(passwd), "MANIFEST_INVALID");
  auto unknown = call("PUT", url, manifest_json({{"sha256:" + std::string(64, 'e'), 5}}));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(error_code(unknown), "MANIFEST_BLOB_UNKNOWN");
  EXPECT_EQ(error_code(call("PUT", url, manifest_json({{d.str(), 6}}))), "SIZE_INVALID");
  EXPECT_EQ(call("PUT", a->url("/v2/library/x/manifests/..bad"), manifest_json({{d.str(), 5}})).status, 400);
  EXPECT_TRUE(all_files(a_dir.path() + "/manifests").empty());
  auto ok = call("PUT", url, manifest_json({{d.str(), 5}}),
                 {{"Content-Type", "application/vnd.docker.distribution.manifest.v2+json"}});
  EXPECT_EQ(ok.status, 201);
  EXPECT_EQ(call("GET", url).status, 200);
}

TEST(Push, ARegistryCanRefusePushes) {
  TempDir a_dir, b_dir;
  auto a = ServerProcess::start(a_dir.path(), {{"CORRAL_REGISTRY_PUSH", "none"}});
  ASSERT_TRUE(a);
  auto denied = call("POST", a->url("/v2/library/x/blobs/uploads/"));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_code(denied), "DENIED");
  create_tiny(b_dir.path());
  const std::string name = registry_name(*a, "x");
  ASSERT_TRUE(store::Store(b_dir.path()).copy("tiny", name).is_ok());
  auto b = ServerProcess::start(b_dir.path());
  ASSERT_TRUE(b);
  const json last = ndjson(http_post(b->url("/api/push"), transfer_body(name)).body).back();
  ASSERT_TRUE(last.contains("error"));
  EXPECT_NE(last["error"].get<std::string>().find("403"), std::string::npos) << last;
  EXPECT_TRUE(all_files(a_dir.path()).empty());
}

}  // namespace
}  // namespace corral::testing
