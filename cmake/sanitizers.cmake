# Sanitizer and fuzzing flags (scripts/test --sanitize, scripts/fuzz).
#
# CORRAL_SANITIZE: every object and binary gets AddressSanitizer (+ LeakSanitizer) and
# UndefinedBehaviorSanitizer. -fno-sanitize-recover makes the first UB report abort the process,
# so a test that triggers one fails instead of printing a line nobody reads. The build stays -O2
# (CMAKE_CXX_FLAGS_RELEASE) because the model tests run real forward passes: at -O0 they would
# take many times longer under ASan.
#
# CORRAL_FUZZ: the same sanitizers plus libFuzzer's coverage instrumentation (fuzzer-no-link) on
# every library; only the fuzz/ executables link the libFuzzer driver (-fsanitize=fuzzer).
if(CORRAL_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "CORRAL_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
if(CORRAL_SANITIZE OR CORRAL_FUZZ)
  # Unsigned wraparound is well-defined and used on purpose by hashes, and float division by
  # zero is IEEE-defined (inf/NaN), so neither -fsanitize=integer nor float-divide-by-zero.
  set(corral_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined)
  add_compile_options(${corral_sanitizers} -fno-omit-frame-pointer)
  add_link_options(${corral_sanitizers})
endif()
if(CORRAL_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
