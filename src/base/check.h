// Invariant checks for programmer errors (never for untrusted input: use Status there).
#pragma once

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace corral::detail {
[[noreturn]] inline void check_failed(const char* file, int line, const char* cond, const std::string& msg) {
  std::fprintf(stderr, "%s:%d: CHECK failed: %s %s\n", file, line, cond, msg.c_str());
  std::fflush(stderr);
  std::abort();
}
}  // namespace corral::detail

#define CORRAL_CHECK(cond, ...)                                                                 \
  do {                                                                                          \
    if (__builtin_expect(!(cond), 0))                                                           \
      ::corral::detail::check_failed(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__)); \
  } while (0)

#ifdef NDEBUG
#define CORRAL_DCHECK(cond, ...) \
  do {                           \
  } while (0)
#else
#define CORRAL_DCHECK(cond, ...) CORRAL_CHECK(cond, __VA_ARGS__)
#endif
