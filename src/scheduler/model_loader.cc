#include "scheduler/model_loader.h"

#include "gguf/gguf_file.h"

namespace corral::scheduler {

Result<LoadedModel> load_model_files(const std::string& path) {
  // Whatever fails here (a missing or corrupt file, an architecture corral does not run) is the
  // server's failure to load the model (kInternal), as Ollama reports it.
  auto fail = [](const Status& s) { return Status::internal("unable to load model: " + s.message()); };
  auto file = gguf::GgufFile::open(path);
  if (!file) return fail(file.status());
  std::shared_ptr<const gguf::GgufFile> gf = std::move(file).value();
  auto model = model::load_model(gf);
  if (!model) return fail(model.status());
  auto tok = Tokenizer::from_gguf(*gf);
  if (!tok) return fail(tok.status());
  return LoadedModel{std::move(model).value(), std::move(tok).value()};
}

void LoaderThreads::start(std::function<void()> work) {
  reap();
  std::lock_guard<std::mutex> lk(mu_);
  Worker& w = workers_.emplace_back();
  w.thread = std::thread([&w, work = std::move(work)]() mutable {
    work();
    work = nullptr;  // what it holds goes now, not when the thread is joined
    w.done.store(true);
  });
}

void LoaderThreads::reap() {
  std::list<Worker> finished;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      auto next = std::next(it);
      if (it->done.load()) finished.splice(finished.end(), workers_, it);
      it = next;
    }
  }
  for (Worker& w : finished) w.thread.join();
}

void LoaderThreads::join_all() {
  std::list<Worker> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    all.swap(workers_);
  }
  for (Worker& w : all)
    if (w.thread.joinable()) w.thread.join();
}

}  // namespace corral::scheduler
