# Sanitizer and fuzzing flags (scripts/test --sanitize, scripts/fuzz).
#
# CORRAL_SANITIZE: every object and binary gets AddressSanitizer (+ LeakSanitizer) and
# UndefinedBehaviorSanitizer. -fno-sanitize-recover makes the first UB report abort the process,
# so a test that triggers one fails instead of printing a line nobody reads. Sanitized builds use
# -O1: it compiles markedly faster than -O2 (the sanitized build shares CI's time budget) and
# keeps stack traces exact, while the model tests' forward passes stay fast enough (at -O0 they
# would take many times longer under ASan). The libraries that do no number crunching (HTTP,
# APIs, store, CLI: corral_sanitize_og_libraries) and the tests build at -Og, which under the
# sanitizers compiles those libraries in 20% less CPU time than -O1 and the tests in 44% less
# (1,618 -> 1,294 and 623 -> 352 CPU s, 2 cores, no ccache, 2026-12-07); the suite passes in
# ~6 min.
#
# CORRAL_FUZZ: the same sanitizers plus libFuzzer's coverage instrumentation (fuzzer-no-link) on
# every library; only the fuzz/ executables link the libFuzzer driver (-fsanitize=fuzzer).
if(CORRAL_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "CORRAL_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
if(CORRAL_SANITIZE OR CORRAL_FUZZ)
  set(CMAKE_CXX_FLAGS_RELEASE "-O1 -g1 -DNDEBUG")
  set(CMAKE_C_FLAGS_RELEASE "-O1 -g1 -DNDEBUG")
  # Unsigned wraparound is well-defined and used on purpose by hashes, and float division by
  # zero is IEEE-defined (inf/NaN), so neither -fsanitize=integer nor float-divide-by-zero.
  set(corral_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined)
  add_compile_options(${corral_sanitizers} -fno-omit-frame-pointer)
  add_link_options(${corral_sanitizers})
endif()
set(corral_sanitize_og_libraries
    corral_templates corral_parsers corral_store corral_registry corral_tools corral_loadtest corral_cli corral_http
    corral_server_core corral_server_access corral_server_ollama corral_server_openai corral_server_anthropic
    corral_server_manage corral_server_registry corral_server)
if(CORRAL_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
