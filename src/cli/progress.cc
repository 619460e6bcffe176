#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "cli/format.h"

namespace corral::cli {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr auto kTick = std::chrono::milliseconds(100);

void terminal_size(FILE* f, int* width, int* height) {
  winsize ws{};
  if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    *width = ws.ws_col;
    *height = ws.ws_row > 0 ? ws.ws_row : 24;
  } else {
    *width = 80;
    *height = 24;
  }
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Right-aligns `s` in `width` columns.
std::string right(const std::string& s, size_t width) {
  const size_t w = display_width(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

double seconds_rounded(Clock::duration d) { return std::round(std::chrono::duration<double>(d).count()); }

}  // namespace

std::string eta_text(std::chrono::seconds remaining) {
  if (remaining >= std::chrono::hours(100)) return "99h+";
  if (remaining >= std::chrono::hours(1)) {
    const auto h = std::chrono::duration_cast<std::chrono::hours>(remaining).count();
    const auto m = std::chrono::duration_cast<std::chrono::minutes>(remaining).count() % 60;
    return fmt::format("{}h{}m", h, m);
  }
  return go_duration(remaining);
}

Progress::Progress(FILE* out) : Progress(out, isatty(fileno(out)) != 0) {}

Progress::Progress(FILE* out, bool terminal) : out_(out), terminal_(terminal) {
  if (terminal_) {
    ticker_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!done_) {
        cv_.wait_for(lock, kTick);
        if (done_) break;
        ++frame_;
        render_locked();
      }
    });
  }
}

Progress::~Progress() { stop(); }

void Progress::stop_spinner_locked() {
  for (Line& l : lines_)
    if (!l.is_bar && !l.stopped) l.stopped = true;
}

void Progress::status(const std::string& message) {
  std::lock_guard lock(mu_);
  if (done_) return;
  if (!terminal_) {
    if (message != last_plain_status_) fmt::print(out_, "{}\n", message);
    last_plain_status_ = message;
    std::fflush(out_);
    return;
  }
  stop_spinner_locked();
  Line l;
  l.message = message;
  l.started = Clock::now();
  lines_.push_back(std::move(l));
}

void Progress::bar(const std::string& key, const std::string& label, int64_t total, int64_t completed) {
  std::lock_guard lock(mu_);
  if (done_) return;
  const auto now = Clock::now();
  Line* line = nullptr;
  for (Line& l : lines_)
    if (l.is_bar && l.key == key) line = &l;
  if (!line) {
    stop_spinner_locked();
    Line l;
    l.key = key;
    l.message = label;
    l.is_bar = true;
    l.total = total;
    l.completed = l.initial = std::min(completed, total);
    l.started = now;
    if (l.initial >= l.total) {
      l.stopped = true;
      l.stopped_at = now;
    }
    lines_.push_back(std::move(l));
    line = &lines_.back();
  }
  if (total > 0) line->total = total;
  line->completed = std::min(completed, line->total);
  if (line->completed >= line->total && !line->stopped) {
    line->stopped = true;
    line->stopped_at = now;
  }
  if (line->samples.empty() || now - line->samples.back().first > std::chrono::seconds(1)) {
    line->samples.emplace_back(now, line->completed);
    if (line->samples.size() > 10) line->samples.erase(line->samples.begin());
  }
  if (!terminal_) plain_bar_locked(*line);
}

void Progress::plain_bar_locked(Line& l) {
  const int quarter = l.total > 0 ? static_cast<int>(l.completed * 4 / l.total) : 0;
  if (quarter <= l.printed_quarter) return;
  l.printed_quarter = quarter;
  const double pct = l.total > 0 ? 100.0 * static_cast<double>(l.completed) / static_cast<double>(l.total) : 0;
  fmt::print(out_, "{} {:.0f}% ({}/{})\n", l.message, pct, human_bytes(l.completed), human_bytes(l.total));
  std::fflush(out_);
}

void Progress::record(const nlohmann::json& r, const std::string& verb) {
  if (!r.is_object()) return;
  const std::string digest = r.value("digest", "");
  const std::string st = r.value("status", "");
  const int64_t total = r.contains("total") && r["total"].is_number() ? r["total"].get<int64_t>() : 0;
  const int64_t completed = r.contains("completed") && r["completed"].is_number() ? r["completed"].get<int64_t>() : 0;
  if (!digest.empty()) {
    // Ollama labels a layer by the first 12 hex digits of its digest.
    const bool sha = digest.rfind("sha256:", 0) == 0 && digest.size() >= 19;
    bar(digest, fmt::format("{} {}...", verb, sha ? digest.substr(7, 12) : digest), total, completed);
  } else if (total > 0) {
    bar(st, st, total, completed);  // byte counts without a layer (a file being copied)
  } else if (!st.empty()) {
    bool same = false;
    {
      std::lock_guard lock(mu_);
      for (auto it = lines_.rbegin(); it != lines_.rend(); ++it) {
        if (!it->is_bar) {
          same = it->message == st;
          break;
        }
      }
      if (!terminal_) same = st == last_plain_status_;
    }
    if (!same) status(st);
  }
}

std::string Progress::render_line(Line& l, int width, int frame) const {
  if (!l.is_bar) {
    std::string s = l.message.empty() ? "" : l.message + " ";
    if (!l.stopped) s += std::string(kFrames[frame % 10]) + " ";
    return s;
  }
  const double pct = l.total > 0 ? 100.0 * static_cast<double>(l.completed) / static_cast<double>(l.total) : 0;
  std::string pre = (l.message.empty() ? "" : l.message + " ") + fmt::format("{:3.0f}%", pct);
  // "999 MB/999 MB" while running, the total alone when done.
  std::string suf = l.stopped ? right(human_bytes(l.total), 6) + std::string(7, ' ')
                              : right(human_bytes(l.completed), 6) + "/" + right(human_bytes(l.total), 6);
  double rate = 0;
  {
    double num = 0, den = 0;
    if (l.stopped) {
      num = static_cast<double>(l.completed - l.initial);
      den = seconds_rounded(l.stopped_at - l.started);
    } else if (l.samples.size() == 1) {
      num = static_cast<double>(l.samples[0].second - l.initial);
      den = seconds_rounded(l.samples[0].first - l.started);
    } else if (l.samples.size() > 1) {
      num = static_cast<double>(l.samples.back().second - l.samples.front().second);
      den = seconds_rounded(l.samples.back().first - l.samples.front().first);
    }
    if (den != 0) rate = num / den;
  }
  if (!l.stopped && rate > 0) {
    suf += "  " + right(human_bytes(static_cast<int64_t>(rate)), 6) + "/s";
    const auto left = std::chrono::seconds(static_cast<int64_t>(static_cast<double>(l.total - l.completed) / rate));
    suf += "  " + right(eta_text(left), 6);
  } else {
    suf += std::string(10 + 8, ' ');
  }
  const int f = width - static_cast<int>(display_width(pre) + display_width(suf)) - 5;
  const int n = f > 0 ? static_cast<int>(f * pct / 100) : 0;
  return pre + " ▕" + repeat("█", n) + repeat(" ", f - n) + "▏ " + suf;
}

void Progress::render_locked() {
  if (!terminal_ || lines_.empty()) return;
  int width, height;
  terminal_size(out_, &width, &height);
  std::string buf = "\033[?2026h\033[?25l";  // synchronized output, hidden cursor: no flicker
  for (int i = 0; i + 1 < drawn_; ++i) buf += "\033[A";
  buf += "\033[1G";
  const size_t first = lines_.size() > static_cast<size_t>(height) ? lines_.size() - height : 0;
  for (size_t i = first; i < lines_.size(); ++i) {
    buf += render_line(lines_[i], width, frame_) + "\033[K";
    if (i + 1 < lines_.size()) buf += "\n";
  }
  buf += "\033[?25h\033[?2026l";
  drawn_ = static_cast<int>(lines_.size() - first);
  std::fputs(buf.c_str(), out_);
  std::fflush(out_);
}

void Progress::finish(bool clear) {
  {
    std::lock_guard lock(mu_);
    if (done_) return;
    done_ = true;
    stop_spinner_locked();
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  std::lock_guard lock(mu_);
  if (!terminal_) return;
  if (clear) {
    std::string buf;
    for (int i = 0; i < drawn_; ++i) buf += (i ? "\033[A" : "") + std::string("\033[2K\033[1G");
    std::fputs(buf.c_str(), out_);
  } else if (!lines_.empty()) {
    render_locked();
    std::fputs("\n", out_);
  }
  std::fflush(out_);
}

void Progress::stop() { finish(false); }
void Progress::stop_and_clear() { finish(true); }

}  // namespace corral::cli
