#include "registry/servers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "common/test_data.h"
#include "registry/test_util.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"

namespace corral::testing {

void create_tiny(const std::string& dir) {
  store::Store s(dir);
  auto mf = store::parse_modelfile("FROM " + test_data_path("models/tinystories-656k-f32.gguf") + "\n");
  ASSERT_TRUE(mf.is_ok()) << mf.error();
  store::CreateOptions opts;
  opts.allow_file_paths = true;  // this process builds its own fixture store from test data
  auto r = store::create_model(s, "tiny", *mf, opts);
  ASSERT_TRUE(r.is_ok()) << r.error();
}

store::Digest add_big_model(const std::string& dir, const std::string& name, size_t bytes, uint64_t seed) {
  store::Store s(dir);
  auto base = s.read_manifest(*store::ModelName::parse("tiny"));
  EXPECT_TRUE(base.is_ok()) << base.error();
  auto blob = s.write_blob_bytes(random_bytes(bytes, seed));
  EXPECT_TRUE(blob.is_ok()) << blob.error();
  store::Manifest m = *base;
  m.layers.push_back({"application/vnd.corral.test.filler", blob->digest, blob->size, ""});
  Status st = s.write_manifest(*store::ModelName::parse(name), m);
  EXPECT_TRUE(st.is_ok()) << st.message();
  return blob->digest;
}

std::vector<nlohmann::json> ndjson(const std::string& body) {
  std::vector<nlohmann::json> out;
  size_t start = 0;
  for (size_t nl; (nl = body.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto j = nlohmann::json::parse(body.substr(start, nl - start), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << body.substr(start, nl - start);
    out.push_back(j);
  }
  return out;
}

std::string transfer_body(const std::string& name, bool stream) {
  nlohmann::json j{{"model", name}, {"insecure", true}};
  if (!stream) j["stream"] = false;
  return j.dump();
}

std::vector<SentRange> sent_ranges(const std::string& log, const store::Digest& d) {
  const std::regex line("registry: sent " + d.hex().substr(0, 12) + " bytes ([0-9]+)-([0-9]+) of [0-9]+ \\(([0-9]+) B");
  std::vector<SentRange> out;
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) {
    out.push_back({std::stoll((*it)[1]), std::stoll((*it)[2]), std::stoll((*it)[3])});
  }
  return out;
}

int64_t bytes_sent(const std::string& log, const store::Digest& d) {
  int64_t sum = 0;
  for (const SentRange& r : sent_ranges(log, d)) sum += r.bytes;
  return sum;
}

store::Digest file_digest(const std::string& path) { return store::Sha256::of(read_file(path)); }

}  // namespace corral::testing
