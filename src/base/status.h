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

class Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }
  template <typename... Args>
  static Status errorf(fmt::format_string<Args...> f, Args&&... args) {
    return Status(fmt::format(f, std::forward<Args>(args)...));
  }

  bool is_ok() const { return !message_.has_value(); }
  const Status& status() const { return *this; }
  explicit operator bool() const { return is_ok(); }
  const std::string& message() const {
    static const std::string kOk = "ok";
    return message_ ? *message_ : kOk;
  }
  // Prefixes context to an error ("loading x.gguf: " + message).
  Status with_context(const std::string& context) const {
    return is_ok() ? *this : Status(context + ": " + *message_);
  }

 private:
  explicit Status(std::string m) : message_(std::move(m)) {}
  std::optional<std::string> message_;
};

// A value or an error message. Access to value() of an error is a programming bug (aborts).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).is_ok()) std::abort();  // an ok Status carries no value
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  Status status() const { return is_ok() ? Status() : std::get<Status>(v_); }
  const std::string& error() const { return std::get<Status>(v_).message(); }

  T& value() & { check(); return std::get<T>(v_); }
  const T& value() const& { check(); return std::get<T>(v_); }
  T&& value() && { check(); return std::get<T>(std::move(v_)); }
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
#define CORRAL_RETURN_IF_ERROR(expr)                           \
  do {                                                         \
    auto&& corral_status_ = (expr);                            \
    if (!corral_status_.is_ok()) return corral_status_.status(); \
  } while (0)

#define CORRAL_CONCAT_INNER_(a, b) a##b
#define CORRAL_CONCAT_(a, b) CORRAL_CONCAT_INNER_(a, b)
// CORRAL_ASSIGN_OR_RETURN(auto x, expr): x = expr.value() or return expr's error.
#define CORRAL_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto CORRAL_CONCAT_(corral_result_, __LINE__) = (expr);                    \
  if (!CORRAL_CONCAT_(corral_result_, __LINE__).is_ok())                     \
    return CORRAL_CONCAT_(corral_result_, __LINE__).status();                \
  lhs = std::move(CORRAL_CONCAT_(corral_result_, __LINE__)).value()
