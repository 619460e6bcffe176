// Reading a model from disk for a runner: the GGUF file, its weights and its tokenizer; and the
// threads that do it, so that a slow load never blocks requests to models already loaded.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "model/model.h"
#include "scheduler/model_files.h"
#include "tokenizer/tokenizer.h"

namespace corral::scheduler {

struct LoadedModel {
  std::shared_ptr<const model::Model> model;
  std::shared_ptr<const Tokenizer> tokenizer;
};

// Loads the weights and tokenizer of the GGUF file at `path` (a content-addressed blob the
// store resolved, never a path a request names); the file and tokenizer come from `files`,
// parsed once. Errors read "unable to load model: ...". kMapped binds the weights where the
// file is mapped (no copy: what planning a load needs); kResident reads them into memory.
Result<LoadedModel> load_model_files(ModelFileCache& files, const std::string& path, model::WeightPlacement placement);

// Runs each load on its own thread; a finished thread is joined by the next start() or
// reap(), so they do not pile up over a long-running server.
class LoaderThreads {
 public:
  LoaderThreads() = default;
  ~LoaderThreads() { join_all(); }
  LoaderThreads(const LoaderThreads&) = delete;
  LoaderThreads& operator=(const LoaderThreads&) = delete;

  void start(std::function<void()> work);
  // Joins the threads whose work has returned.
  void reap();
  // Joins every thread (their work must be able to finish: the caller has told it to stop).
  void join_all();
  // Threads started and not joined yet.
  size_t size() const;

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  mutable std::mutex mu_;
  std::list<Worker> workers_;  // guarded by mu_; a list: a Worker never moves once started
};

}  // namespace corral::scheduler
