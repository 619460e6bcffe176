// Progress display for long operations (pull, push, create, blob uploads), after Ollama's
// progress package: on a terminal, a block of lines redrawn in place ten times a second - a
// spinner per status and a bar per layer (percent, bytes, rate, time left); when the output is
// not a terminal (a pipe, a log file), plain lines instead: each status once, and a layer's
// progress at 0, 25, 50, 75 and 100 %.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::cli {

class Progress {
 public:
  // Draws to `out` (stderr, as Ollama does); bars only if it is a terminal.
  explicit Progress(FILE* out = stderr);
  Progress(FILE* out, bool terminal);  // for tests: force either mode
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // A new status line with a spinner; the previous spinner stops (its line stays).
  void status(const std::string& message);
  // A byte-count bar identified by `key` (a layer digest), labelled `label` when it appears.
  void bar(const std::string& key, const std::string& label, int64_t total, int64_t completed);
  // One Ollama progress record ({"status", "digest", "total", "completed"}): a record with a
  // digest drives that layer's bar labelled "<verb> <12 hex>...", any other a status line.
  void record(const nlohmann::json& r, const std::string& verb);
  // Draws a last time and leaves the lines on screen.
  void stop();
  // Erases the lines (a spinner that only bridged a wait).
  void stop_and_clear();

 private:
  struct Line {
    std::string key;  // bar: the layer; spinner: empty
    std::string message;
    bool is_bar = false;
    bool stopped = false;
    int64_t total = 0, completed = 0, initial = 0;
    std::chrono::steady_clock::time_point started, stopped_at;
    // (time, completed) samples at most one per second, the last ten: the rate is measured
    // over them so it follows the recent speed, as Ollama's bar does.
    std::vector<std::pair<std::chrono::steady_clock::time_point, int64_t>> samples;
    int printed_quarter = -1;  // plain mode: the last 25 % step printed
  };

  std::string render_line(Line& l, int width, int frame) const;
  void render_locked();
  void plain_bar_locked(Line& l);
  void stop_spinner_locked();
  void finish(bool clear);

  FILE* out_;
  const bool terminal_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Line> lines_;
  std::string last_plain_status_;
  int drawn_ = 0;  // lines drawn by the last render (the cursor is on the last one)
  int frame_ = 0;
  bool done_ = false;
  std::thread ticker_;
};

// Ollama's bar suffix pieces, exposed for tests.
std::string eta_text(std::chrono::seconds remaining);

}  // namespace corral::cli
