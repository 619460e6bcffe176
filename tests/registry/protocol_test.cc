// The registry protocol's pure pieces: names to URLs, byte ranges, manifest validation.
#include <gtest/gtest.h>

#include "registry/byte_range.h"
#include "registry/fake_registry.h"
#include "registry/manifest_check.h"
#include "registry/reference.h"

namespace corral::registry {
namespace {

const std::string kHex(64, 'a');

TEST(Reference, DefaultsAndUrlsFollowOllama) {
  auto r = Reference::parse("tiny", false);
  ASSERT_TRUE(r.is_ok()) << r.error();
  EXPECT_EQ(r->manifest_url(), "https://registry.ollama.ai/v2/library/tiny/manifests/latest");
  auto d = store::Digest::parse("sha256:" + kHex);
  EXPECT_EQ(r->blob_url(*d), "https://registry.ollama.ai/v2/library/tiny/blobs/sha256:" + kHex);
  EXPECT_EQ(r->uploads_url(), "https://registry.ollama.ai/v2/library/tiny/blobs/uploads/");

  auto local = Reference::parse("127.0.0.1:5000/team/m:v1", true);
  ASSERT_TRUE(local.is_ok());
  EXPECT_EQ(local->manifest_url(), "http://127.0.0.1:5000/v2/team/m/manifests/v1");
  EXPECT_EQ(local->name.host, "127.0.0.1:5000");
}

TEST(Reference, PlainHttpNeedsInsecure) {
  auto r = Reference::parse("http://127.0.0.1:5000/library/m", false);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error(), "insecure protocol http");
  EXPECT_TRUE(Reference::parse("http://127.0.0.1:5000/library/m", true).is_ok());
  EXPECT_FALSE(Reference::parse("ftp://h/library/m", true).is_ok());
  EXPECT_FALSE(Reference::parse("../../etc/passwd", true).is_ok());
  EXPECT_FALSE(Reference::parse("h/ns/m:../x", true).is_ok());
}

TEST(Reference, LocationsResolveAgainstTheRegistry) {
  EXPECT_EQ(resolve_location("http://h:1", "/v2/a/b/blobs/uploads/x"), "http://h:1/v2/a/b/blobs/uploads/x");
  EXPECT_EQ(resolve_location("http://h:1", "https://cdn/x?y=1"), "https://cdn/x?y=1");
  EXPECT_EQ(resolve_location("https://h", "//cdn/x"), "https://cdn/x");
}

TEST(ByteRange, ParsesTheFormsRegistriesUse) {
  ByteRange r;
  EXPECT_EQ(parse_range_header("bytes=0-99", 1000, &r), RangeRequest::kRange);
  EXPECT_EQ(r.first, 0);
  EXPECT_EQ(r.last, 99);
  EXPECT_EQ(parse_range_header("bytes=900-", 1000, &r), RangeRequest::kRange);
  EXPECT_EQ(r.last, 999);
  EXPECT_EQ(parse_range_header("bytes=-10", 1000, &r), RangeRequest::kRange);
  EXPECT_EQ(r.first, 990);
  EXPECT_EQ(parse_range_header("bytes=500-5000", 1000, &r), RangeRequest::kRange);
  EXPECT_EQ(r.last, 999);  // clamped
  EXPECT_EQ(parse_range_header("bytes=1000-", 1000, &r), RangeRequest::kUnsatisfiable);
  EXPECT_EQ(parse_range_header("bytes=-0", 1000, &r), RangeRequest::kUnsatisfiable);
  // Ignorable: answered with the whole body.
  EXPECT_EQ(parse_range_header("bytes=0-1,5-6", 1000, &r), RangeRequest::kWhole);
  EXPECT_EQ(parse_range_header("items=0-1", 1000, &r), RangeRequest::kWhole);
  EXPECT_EQ(parse_range_header("bytes=5-1", 1000, &r), RangeRequest::kWhole);
  EXPECT_EQ(parse_range_header("bytes=-", 1000, &r), RangeRequest::kWhole);
  EXPECT_EQ(parse_range_header("bytes=99999999999999999999-", 1000, &r), RangeRequest::kWhole);
  EXPECT_EQ(parse_range_header("bytes=+5-9", 1000, &r), RangeRequest::kWhole);
}

TEST(ByteRange, ContentRangeRoundTrips) {
  EXPECT_EQ(content_range({10, 19}, 100), "bytes 10-19/100");
  auto cr = parse_content_range("bytes 10-19/100");
  ASSERT_TRUE(cr);
  EXPECT_EQ(cr->range.first, 10);
  EXPECT_EQ(cr->size, 100);
  EXPECT_EQ(parse_content_range("bytes 10-19/*")->size, -1);
  EXPECT_FALSE(parse_content_range("bytes 10-200/100"));
  EXPECT_FALSE(parse_content_range("bytes */100"));
  EXPECT_FALSE(parse_content_range("10-19/100"));
}

Status check(const std::string& json) {
  auto m = store::Manifest::parse(json);
  if (!m) return m.status();
  return check_remote_manifest(*m);
}

TEST(ManifestCheck, AcceptsARegistryManifest) {
  const std::string d = "sha256:" + kHex, c = "sha256:" + std::string(64, 'c');
  EXPECT_TRUE(check(testing::manifest_json({{d, 100}}, c, 50)).is_ok());
}

TEST(ManifestCheck, RefusesHostileManifests) {
  const std::string d = "sha256:" + kHex;
  // Digests that would name a path, or are not hex.
  EXPECT_FALSE(check(testing::manifest_json({{"sha256:../../etc/passwd", 1}})).is_ok());
  EXPECT_FALSE(check(testing::manifest_json({{"sha256:" + std::string(64, 'g'), 1}})).is_ok());
  EXPECT_FALSE(check(testing::manifest_json({{"sha256-" + kHex + "/../x", 1}})).is_ok());
  EXPECT_FALSE(check(testing::manifest_json({{d, 1}}, "sha256:../config", 1)).is_ok());
  // Sizes.
  auto huge = check(testing::manifest_json({{d, int64_t{1} << 50}}));
  ASSERT_FALSE(huge.is_ok());
  EXPECT_NE(huge.message().find("declares"), std::string::npos) << huge.message();
  EXPECT_FALSE(check(testing::manifest_json({{d, -1}})).is_ok());
  EXPECT_FALSE(check(testing::manifest_json({{d, 1}}, "sha256:" + std::string(64, 'c'), int64_t{1} << 30)).is_ok());
  EXPECT_FALSE(check(testing::manifest_json({{d, 1}, {d, 2}})).is_ok());  // one digest, two sizes
  // Shape.
  EXPECT_FALSE(check(testing::manifest_json({})).is_ok());
  EXPECT_FALSE(check(testing::manifest_json({{d, 1}}, "", 0, "not a media type")).is_ok());
  EXPECT_FALSE(
      check(R"({"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[]})")
          .is_ok());
  EXPECT_FALSE(check(R"({"schemaVersion":2,"mediaType":"text/html","layers":[{"mediaType":"a/b","digest":"sha256:)" +
                     kHex + R"(","size":1}]})")
                   .is_ok());
  EXPECT_FALSE(check("<html>").is_ok());
}

}  // namespace
}  // namespace corral::registry
