#include "scheduler/model_loader.h"

namespace corral::scheduler {

Result<LoadedModel> load_model_files(ModelFileCache& files, const std::string& path, model::WeightPlacement placement) {
  CORRAL_ASSIGN_OR_RETURN(ModelFile mf, files.get(path));
  // Like a file that cannot be read, an architecture corral does not run is the server's
  // failure to load the model (kInternal), as Ollama reports it.
  auto model = model::load_model(mf.file, placement);
  if (!model) return Status::internal("unable to load model: " + model.error());
  return LoadedModel{std::move(model).value(), std::move(mf.tokenizer)};
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

size_t LoaderThreads::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return workers_.size();
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
