// Error values for untrusted input (files, requests, text). Programmer invariants use
// CORRAL_CHECK (check.h) instead; hot kernels never return errors.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace corral {

// What kind of failure an error is, so that callers decide by kind and never by message text.
// Only server/ turns a code into an HTTP status (server/status_http.h); the CLI into an exit
// code or a message. The set follows gRPC's canonical codes, trimmed to those corral needs.
enum class StatusCode {
  kOk,
  kInvalidArgument,  // the input (a request, a file, a text) is malformed or out of range
  kNotFound,         // a named thing (model, blob, sequence) does not exist
  kAlreadyExists,
  kPermissionDenied,    // refused by policy (origin, API key, path access)
  kFailedPrecondition,  // valid input the target cannot take (a model that cannot embed)
  kResourceExhausted,   // a bound is reached: queue full, KV cache full, memory budget
  kUnavailable,         // temporarily unable: unloading, shutting down; retrying may help
  kCancelled,           // the caller went away
  kDeadlineExceeded,
  kUnimplemented,  // a feature corral does not support yet
  kInternal,       // a bug or an unexpected environment failure
};
const char* status_code_name(StatusCode c);

class Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  // An error without a more specific code is about the input: that is what most errors here
  // are (files, requests, text), and it is the safe reading for a caller (no retry, a 4xx).
  static Status error(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }
  static Status error(StatusCode code, std::string message) { return Status(code, std::move(message)); }
  template <typename... Args>
  static Status errorf(fmt::format_string<Args...> f, Args&&... args) {
    return Status(StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Status errorf(StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
    return Status(code, fmt::format(f, std::forward<Args>(args)...));
  }
  static Status not_found(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
  static Status internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
  static Status unavailable(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
  static Status exhausted(std::string m) { return Status(StatusCode::kResourceExhausted, std::move(m)); }
  static Status unimplemented(std::string m) { return Status(StatusCode::kUnimplemented, std::move(m)); }
  static Status cancelled(std::string m) { return Status(StatusCode::kCancelled, std::move(m)); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  bool is(StatusCode c) const { return code_ == c; }
  const Status& status() const { return *this; }
  explicit operator bool() const { return is_ok(); }
  const std::string& message() const {
    static const std::string kOk = "ok";
    return is_ok() ? kOk : message_;
  }
  // Prefixes context to an error ("loading x.gguf: " + message); the code stays.
  Status with_context(const std::string& context) const {
    return is_ok() ? *this : Status(code_, context + ": " + message_);
  }
  // The same message under another code (a lower layer's "not found" that is the caller's
  // invalid argument, say).
  Status with_code(StatusCode c) const { return is_ok() ? *this : Status(c, message_); }

 private:
  Status(StatusCode c, std::string m) : code_(c), message_(std::move(m)) {
    if (code_ == StatusCode::kOk) std::abort();  // an error needs an error code
  }
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or an error message. Access to value() of an error is a programming bug (aborts).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {    // NOLINT
    if (std::get<Status>(v_).is_ok()) std::abort();  // an ok Status carries no value
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  Status status() const { return is_ok() ? Status() : std::get<Status>(v_); }
  const std::string& error() const { return std::get<Status>(v_).message(); }
  StatusCode code() const { return is_ok() ? StatusCode::kOk : std::get<Status>(v_).code(); }

  T& value() & {
    check();
    return std::get<T>(v_);
  }
  const T& value() const& {
    check();
    return std::get<T>(v_);
  }
  T&& value() && {
    check();
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check() const {
    if (!is_ok()) {
      fmt::print(stderr, "Result::value() on error: {}\n", std::get<Status>(v_).message());
      std::abort();
    }
  }
  std::variant<T, Status> v_;
};

}  // namespace corral

// Returns the error of a Status- or Result-valued expression from the enclosing function.
#define CORRAL_RETURN_IF_ERROR(expr)                             \
  do {                                                           \
    auto&& corral_status_ = (expr);                              \
    if (!corral_status_.is_ok()) return corral_status_.status(); \
  } while (0)

#define CORRAL_CONCAT_INNER_(a, b) a##b
#define CORRAL_CONCAT_(a, b) CORRAL_CONCAT_INNER_(a, b)
// CORRAL_ASSIGN_OR_RETURN(auto x, expr): x = expr.value() or return expr's error.
#define CORRAL_ASSIGN_OR_RETURN(lhs, expr)                                                                         \
  auto CORRAL_CONCAT_(corral_result_, __LINE__) = (expr);                                                          \
  if (!CORRAL_CONCAT_(corral_result_, __LINE__).is_ok()) return CORRAL_CONCAT_(corral_result_, __LINE__).status(); \
  lhs = std::move(CORRAL_CONCAT_(corral_result_, __LINE__)).value()
