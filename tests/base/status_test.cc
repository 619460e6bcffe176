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
