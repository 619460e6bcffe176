// corral serve: the server, configured by Ollama's environment variables.
#include <pthread.h>
#include <signal.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "server/app.h"

namespace corral::cli {

void register_serve(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "serve", "Start corral (OLLAMA_HOST, OLLAMA_MODELS, OLLAMA_NUM_PARALLEL, OLLAMA_ORIGINS, CORRAL_API_KEYS, ...)");
  cmd->alias("start");
  cmd->callback([&exit_code] {
    auto host = server::ollama_host_from_env();
    if (!host) {
      fmt::print(stderr, "Error: {}\n", host.error());
      exit_code = 1;
      return;
    }
    auto sched = scheduler::config_from_env();
    if (!sched) {
      fmt::print(stderr, "Error: {}\n", sched.error());
      exit_code = 1;
      return;
    }
    // Signals are taken by one thread with sigwait, so every other thread (io, engine, pool)
    // must have them blocked: block before any thread starts.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    server::AppOptions opts;
    if (Status s = server::access_options_from_env(&opts); !s) {
      fmt::print(stderr, "Error: {}\n", s.message());
      exit_code = 1;
      return;
    }
    auto preload = server::preload_from_env();
    if (!preload) {
      fmt::print(stderr, "Error: {}\n", preload.error());
      exit_code = 1;
      return;
    }
    opts.preload = *preload;
    opts.listen = *host;
    opts.models_dir = store::Store::default_root();
    opts.scheduler = *sched;
    server::App server(opts);
    if (Status s = server.listen(); !s) {
      fmt::print(stderr, "Error: listen tcp {}:{}: {}\n", host->host, host->port, s.message());
      exit_code = 1;
      return;
    }
    std::thread signals([&server, set] {
      int sig = 0;
      sigwait(&set, &sig);
      spdlog::info("received {}, shutting down (in-flight requests get 10 s to finish)",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      server.stop(std::chrono::seconds(10));
    });
    server.run();
    // run() also returns if the server stopped for another reason: wake the signal thread.
    pthread_kill(signals.native_handle(), SIGTERM);
    signals.join();
    spdlog::info("corral stopped");
  });
}

}  // namespace corral::cli
