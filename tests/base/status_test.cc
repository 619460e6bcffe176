#include "base/status.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return Status::errorf("{} is not positive", x);
  return x;
}

Result<int> twice(int x) {
  CORRAL_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return 2 * v;
}

TEST(Status, ResultCarriesValueOrError) {
  EXPECT_TRUE(twice(3).is_ok());
  EXPECT_EQ(twice(3).value(), 6);
  auto r = twice(-1);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.error(), "-1 is not positive");
  EXPECT_EQ(r.status().with_context("parsing").message(), "parsing: -1 is not positive");
}

}  // namespace
}  // namespace corral

namespace corral {
namespace {

TEST(StatusCodeTest, ErrorsCarryTheirCodeThroughContextAndResults) {
  EXPECT_EQ(Status::ok().code(), StatusCode::kOk);
  EXPECT_EQ(Status::error("bad").code(), StatusCode::kInvalidArgument);  // input errors by default
  const Status nf = Status::not_found("model 'x' not found");
  EXPECT_TRUE(nf.is(StatusCode::kNotFound));
  EXPECT_EQ(nf.with_context("resolving").code(), StatusCode::kNotFound);
  EXPECT_EQ(nf.with_context("resolving").message(), "resolving: model 'x' not found");
  EXPECT_EQ(nf.with_code(StatusCode::kInvalidArgument).message(), nf.message());
  EXPECT_EQ(Status::errorf(StatusCode::kResourceExhausted, "{} of {}", 3, 4).code(), StatusCode::kResourceExhausted);
  Result<int> r = Status::unavailable("unloading");
  EXPECT_EQ(r.code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Result<int>(3).code(), StatusCode::kOk);
  EXPECT_STREQ(status_code_name(StatusCode::kResourceExhausted), "resource_exhausted");
}

}  // namespace
}  // namespace corral
