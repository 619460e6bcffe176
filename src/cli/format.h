// How the CLI prints numbers, sizes, times and tables: Ollama's format package (HumanBytes,
// HumanNumber, HumanTime), Go's time.Duration.String, and tablewriter's borderless tables as
// `ollama list` / `ollama ps` / `ollama show` print them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::cli {

// Decimal units with Ollama's precision rule: "950 B", "1.3 GB", "12 MB", "4 GB".
std::string human_bytes(int64_t bytes);
// Parameter counts: "8B", "7.6B", "135M", "1.24M", "260K", "999".
std::string human_number(uint64_t n);
// Relative to `now`: "2 minutes ago", "4 minutes from now", "About an hour ago"; "Forever" for
// more than 20 years ahead; `zero_value` for an absent time.
std::string human_time(std::optional<std::chrono::system_clock::time_point> t, std::string_view zero_value,
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
// Go's time.Duration.String: "1.234567s", "15.2ms", "1m2.5s", "0s".
std::string go_duration(std::chrono::nanoseconds d);

// RFC 3339 as Go writes a time.Time ("2024-05-01T12:00:00.123Z", "...+02:00"). Go's zero time
// (year 1) and unparsable text give nullopt.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s);

// A borderless table: every cell left-aligned and padded to its column's width, each followed by
// `padding` (also after the last column, as tablewriter does). `header` may be empty.
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                         std::string_view padding = "    ");

// Display width of UTF-8 text (code points; every one counts as one column).
size_t display_width(std::string_view s);

}  // namespace corral::cli
