#include "base/quote.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(QuoteText, EscapesLikeGoQuoting) {
  EXPECT_EQ(quote_text(""), "\"\"");
  EXPECT_EQ(quote_text("plain"), "\"plain\"");
  EXPECT_EQ(quote_text("a\"b\\c\n\r\t"), "\"a\\\"b\\\\c\\n\\r\\t\"");
  EXPECT_EQ(quote_text(std::string("\x01\x7f\0z", 4)), "\"\\x01\\x7f\\x00z\"");
}

TEST(QuoteText, ValidUtf8PassesThrough) {
  EXPECT_EQ(quote_text("caf\xc3\xa9 \xe2\x96\x81 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x96\x81 \xf0\x9f\x98\x80\"");
}

// fmt 9's "{:?}" aborts the process on these bytes (the reason quote_text exists): each byte that
// is not part of a well-formed sequence becomes \xHH, so the result is valid UTF-8 again.
TEST(QuoteText, InvalidUtf8BecomesHexEscapes) {
  EXPECT_EQ(quote_text("\xff"), "\"\\xff\"");
  EXPECT_EQ(quote_text("\xc4\x8a\x91"), "\"\xc4\x8a\\x91\"");             // valid pair, stray continuation
  EXPECT_EQ(quote_text("\xe2\x96"), "\"\\xe2\\x96\"");                    // truncated sequence
  EXPECT_EQ(quote_text("\xc0\xaf"), "\"\\xc0\\xaf\"");                    // overlong '/'
  EXPECT_EQ(quote_text("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");           // UTF-16 surrogate
  EXPECT_EQ(quote_text("\xf4\x90\x80\x80"), "\"\\xf4\\x90\\x80\\x80\"");  // above U+10FFFF
}

}  // namespace
}  // namespace corral
