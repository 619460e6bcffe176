#include "cli/format.h"

#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace corral::cli {

std::string human_bytes(int64_t b) {
  constexpr double kKB = 1000, kMB = kKB * 1000, kGB = kMB * 1000, kTB = kGB * 1000;
  double value;
  const char* unit;
  if (b >= kTB) value = b / kTB, unit = "TB";
  else if (b >= kGB) value = b / kGB, unit = "GB";
  else if (b >= kMB) value = b / kMB, unit = "MB";
  else if (b >= kKB) value = b / kKB, unit = "KB";
  else return fmt::format("{} B", b);
  // Ollama: whole numbers from 10 up, one decimal below unless the value is whole.
  if (value >= 10 || value == std::trunc(value)) return fmt::format("{} {}", static_cast<int64_t>(value), unit);
  return fmt::format("{:.1f} {}", value, unit);
}

std::string human_number(uint64_t n) {
  constexpr double kThousand = 1e3, kMillion = 1e6, kBillion = 1e9;
  const double v = static_cast<double>(n);
  if (v >= kBillion) {
    const double x = v / kBillion;
    return x == std::floor(x) ? fmt::format("{:.0f}B", x) : fmt::format("{:.1f}B", x);
  }
  if (v >= kMillion) {
    const double x = v / kMillion;
    return x == std::floor(x) ? fmt::format("{:.0f}M", x) : fmt::format("{:.2f}M", x);
  }
  if (v >= kThousand) return fmt::format("{:.0f}K", v / kThousand);
  return std::to_string(n);
}

namespace {

// Ollama's humanDuration: coarse English for a positive duration.
std::string human_duration(std::chrono::nanoseconds d) {
  const double secs_f = std::chrono::duration<double>(d).count();
  const int64_t seconds = static_cast<int64_t>(secs_f);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return fmt::format("{} seconds", seconds);
  const int64_t minutes = static_cast<int64_t>(secs_f / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt::format("{} minutes", minutes);
  const int64_t hours = static_cast<int64_t>(std::round(secs_f / 3600));
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt::format("{} hours", hours);
  if (hours < 24 * 7 * 2) return fmt::format("{} days", hours / 24);
  if (hours < 24 * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
  return fmt::format("{} years", hours / 24 / 365);
}

// Go's fmtFrac/fmtInt: `v` as "int.frac" with `prec` fractional digits, trailing zeros dropped.
std::string fixed_trimmed(uint64_t v, int prec) {
  uint64_t scale = 1;
  for (int i = 0; i < prec; ++i) scale *= 10;
  std::string out = std::to_string(v / scale);
  uint64_t frac = v % scale;
  if (frac != 0) {
    std::string f = fmt::format("{:0{}d}", frac, prec);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

}  // namespace

std::string human_time(std::optional<std::chrono::system_clock::time_point> t, std::string_view zero_value,
                       std::chrono::system_clock::time_point now) {
  if (!t) return std::string(zero_value);
  const auto delta = now - *t;
  const double hours = std::chrono::duration<double>(delta).count() / 3600;
  if (static_cast<int64_t>(hours) / 24 / 365 < -20) return "Forever";
  if (delta < decltype(delta)::zero())
    return human_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(-delta)) + " from now";
  return human_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(delta)) + " ago";
}

std::string go_duration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  const bool neg = ns < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000000000ull) {
    // Below a second Go picks the largest unit that keeps an integer part.
    if (u < 1000) out = std::to_string(u) + "ns";
    else if (u < 1000000) out = fixed_trimmed(u, 3) + "µs";
    else out = fixed_trimmed(u, 6) + "ms";
  } else {
    std::string secs = fixed_trimmed(u % 60000000000ull, 9) + "s";
    uint64_t minutes = u / 60000000000ull;
    if (minutes == 0) {
      out = secs;
    } else {
      const uint64_t hours = minutes / 60;
      minutes %= 60;
      out = (hours ? std::to_string(hours) + "h" : "") + std::to_string(minutes) + "m" + secs;
    }
  }
  return neg ? "-" + out : out;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto num = [&](size_t pos, size_t len, int* out) {
    if (pos + len > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  if (!num(0, 4, &year) || !num(5, 2, &mon) || !num(8, 2, &day) || !num(11, 2, &hour) || !num(14, 2, &min) ||
      !num(17, 2, &sec))
    return std::nullopt;
  if (year <= 1) return std::nullopt;  // Go's zero time.Time
  size_t pos = 19;
  int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    int digits = 0;
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) frac_ns = frac_ns * 10 + (s[pos] - '0'), ++digits;
      ++pos;
    }
    while (digits++ < 9) frac_ns *= 10;
  }
  int offset_s = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!num(pos + 1, 2, &oh) || !num(pos + 4, 2, &om)) return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
  } else if (pos >= s.size() || (s[pos] != 'Z' && s[pos] != 'z')) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const int64_t epoch = static_cast<int64_t>(timegm(&tm)) - offset_s;
  // A nanosecond clock ends in 2262; later times (Ollama's "forever" keep-alive is ~292 years
  // ahead) are the clock's last instant, which human_time shows as "Forever".
  using Clock = std::chrono::system_clock;
  const auto clock_secs = std::chrono::duration_cast<std::chrono::seconds>(Clock::time_point::max().time_since_epoch());
  if (epoch >= clock_secs.count()) return Clock::time_point::max();
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(epoch) + std::chrono::nanoseconds(frac_ns)));
}

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count lead bytes only
  return n;
}

std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                         std::string_view padding) {
  std::vector<size_t> widths;
  auto measure = [&](const std::vector<std::string>& row) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      out += cell;
      out.append(widths[i] - display_width(cell), ' ');
      out += padding;
    }
    out += '\n';
  };
  if (!header.empty()) line(header);
  for (const auto& r : rows) line(r);
  return out;
}

}  // namespace corral::cli
