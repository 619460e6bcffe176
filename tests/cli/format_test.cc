// The CLI's formatting helpers against Ollama's outputs: sizes, counts, relative times, Go
// durations, RFC 3339 parsing and the borderless tables of `ollama list`.
#include <gtest/gtest.h>

#include "cli/format.h"

namespace corral::cli {
namespace {

using namespace std::chrono;

TEST(Format, HumanBytesLikeOllama) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1000), "1 KB");
  EXPECT_EQ(human_bytes(1500), "1.5 KB");
  EXPECT_EQ(human_bytes(1'300'000'000), "1.3 GB");
  EXPECT_EQ(human_bytes(4'700'000'000), "4.7 GB");
  EXPECT_EQ(human_bytes(12'345'678), "12 MB");
  EXPECT_EQ(human_bytes(999'999), "999 KB");
  EXPECT_EQ(human_bytes(2'000'000'000'000), "2 TB");
}

TEST(Format, HumanNumberLikeOllama) {
  EXPECT_EQ(human_number(999), "999");
  EXPECT_EQ(human_number(260'000), "260K");
  EXPECT_EQ(human_number(1'240'000), "1.24M");
  EXPECT_EQ(human_number(7'000'000), "7M");
  EXPECT_EQ(human_number(8'030'261'248), "8.0B");
  EXPECT_EQ(human_number(7'615'616'512), "7.6B");
  EXPECT_EQ(human_number(8'000'000'000), "8B");
}

TEST(Format, HumanTimeLikeOllama) {
  const auto now = system_clock::now();
  EXPECT_EQ(human_time(std::nullopt, "Never", now), "Never");
  EXPECT_EQ(human_time(now - seconds(130), "Never", now), "2 minutes ago");
  EXPECT_EQ(human_time(now + seconds(4 * 60 + 59), "Never", now), "4 minutes from now");
  EXPECT_EQ(human_time(now - milliseconds(300), "Never", now), "Less than a second ago");
  EXPECT_EQ(human_time(now - seconds(1), "Never", now), "1 second ago");
  EXPECT_EQ(human_time(now - seconds(75), "Never", now), "About a minute ago");
  EXPECT_EQ(human_time(now - minutes(65), "Never", now), "About an hour ago");
  EXPECT_EQ(human_time(now - hours(30), "Never", now), "30 hours ago");
  EXPECT_EQ(human_time(now - hours(24 * 3), "Never", now), "3 days ago");
  EXPECT_EQ(human_time(now - hours(24 * 20), "Never", now), "2 weeks ago");
  EXPECT_EQ(human_time(now - hours(24 * 100), "Never", now), "3 months ago");
  EXPECT_EQ(human_time(now - hours(24 * 800), "Never", now), "2 years ago");
  EXPECT_EQ(human_time(now + hours(24 * 365 * 100), "Never", now), "Forever");
}

TEST(Format, GoDurationStrings) {
  EXPECT_EQ(go_duration(nanoseconds(0)), "0s");
  EXPECT_EQ(go_duration(nanoseconds(999)), "999ns");
  EXPECT_EQ(go_duration(nanoseconds(1500)), "1.5µs");
  EXPECT_EQ(go_duration(nanoseconds(15'200'000)), "15.2ms");
  EXPECT_EQ(go_duration(nanoseconds(1'234'567'891)), "1.234567891s");
  EXPECT_EQ(go_duration(seconds(62) + milliseconds(500)), "1m2.5s");
  EXPECT_EQ(go_duration(hours(2) + seconds(5)), "2h0m5s");
  EXPECT_EQ(go_duration(seconds(3)), "3s");
}

TEST(Format, ParsesGoTimestamps) {
  auto t = parse_rfc3339("2024-05-01T12:00:00.5Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(duration_cast<milliseconds>(t->time_since_epoch()).count(), 1714564800500);
  auto z = parse_rfc3339("2024-05-01T14:00:00+02:00");
  ASSERT_TRUE(z);
  EXPECT_EQ(duration_cast<seconds>(z->time_since_epoch()).count(), 1714564800);
  EXPECT_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));  // Go's zero time: "Never"
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_FALSE(parse_rfc3339(""));
}

TEST(Format, TablesAreTablewriterBorderless) {
  // Every cell padded to its column, each followed by four spaces, as `ollama list` prints.
  EXPECT_EQ(
      render_table({"NAME", "ID", "SIZE"}, {{"llama3:latest", "365c0bd3c000", "4.7 GB"}, {"a:b", "0123", "1 KB"}}),
      "NAME             ID              SIZE      \n"
      "llama3:latest    365c0bd3c000    4.7 GB    \n"
      "a:b              0123            1 KB      \n");
  EXPECT_EQ(render_table({}, {{"", "architecture", "llama"}, {"", "context length", "2048"}}),
            "    architecture      llama    \n"
            "    context length    2048     \n");
}

}  // namespace
}  // namespace corral::cli
