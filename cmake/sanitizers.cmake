# Sanitizer and fuzzing flags (scripts/test --sanitize, scripts/fuzz).
#
# CORRAL_SANITIZE: every object and binary gets AddressSanitizer (+ LeakSanitizer) and
# UndefinedBehaviorSanitizer. -fno-sanitize-recover makes the first UB report abort the process,
# so a test that triggers one fails instead of printing a line nobody reads. Sanitized builds use
# -O1: it compiles markedly faster than -O2 (the sanitized build shares CI's time budget) and
# keeps stack traces exact, while the model tests' forward passes stay fast enough (at -O0 they
# would take many times longer under ASan).
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
if(CORRAL_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
