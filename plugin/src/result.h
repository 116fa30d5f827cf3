// Errors as values inside the library; the C boundary turns them into codes and JSON.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace regulars {

// What kind of failure an Error is. The C ABI and the command line map each kind to
// a code and an exit status; the `code` string inside gives the detail.
enum class ErrorKind {
  kBadInput,  // the caller sent something invalid: fix the input and retry
  kNotFound,  // a referenced thing (transaction, customer) does not exist
  kConflict,  // the request contradicts what is stored (same id, different basket)
  kStorage,   // the database could not be read or written
  kInternal,  // a bug or an unexpected failure
};

// An error of Contract v1: a stable machine code, a human message, and where in the
// input the problem is (a JSON pointer, a file position, or empty).
struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string code;
  std::string message;
  std::string where;

  static Error BadInput(std::string code, std::string message, std::string where = {}) {
    return {ErrorKind::kBadInput, std::move(code), std::move(message), std::move(where)};
  }
  static Error NotFound(std::string code, std::string message, std::string where = {}) {
    return {ErrorKind::kNotFound, std::move(code), std::move(message), std::move(where)};
  }
  static Error Conflict(std::string code, std::string message, std::string where = {}) {
    return {ErrorKind::kConflict, std::move(code), std::move(message), std::move(where)};
  }
  static Error Storage(std::string message, std::string where = {}) {
    return {ErrorKind::kStorage, "database_error", std::move(message), std::move(where)};
  }
  static Error Internal(std::string message) {
    return {ErrorKind::kInternal, "internal", std::move(message), {}};
  }
};

// A value or an Error. Small on purpose: `ok()`, `value()`, `error()`.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error, for operations that return nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status Ok() { return {}; }

  bool ok() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace regulars

// Propagates a failed Result/Status out of the enclosing function.
#define REGULARS_TRY(expr)                                 \
  do {                                                     \
    auto&& regulars_try_ = (expr);                         \
    if (!regulars_try_.ok()) return regulars_try_.error(); \
  } while (0)

// Evaluates `rexpr` (a Result<T>); on failure returns its error from the enclosing
// function, else assigns (or declares, with `auto name`) `lhs` from its value:
//   REGULARS_ASSIGN_OR_RETURN(auto counters, ledger.counters().Of(id));
// It expands to several statements: under an `if`, give it braces.
#define REGULARS_ASSIGN_OR_RETURN(lhs, rexpr) \
  REGULARS_ASSIGN_OR_RETURN_IMPL_(REGULARS_CONCAT_(regulars_result_, __COUNTER__), lhs, rexpr)
#define REGULARS_CONCAT_INNER_(a, b) a##b
#define REGULARS_CONCAT_(a, b) REGULARS_CONCAT_INNER_(a, b)
// `lhs` is a declaration (`auto name`), so it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define REGULARS_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto&& result = (rexpr);                                  \
  if (!result.ok()) return result.error();                  \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)
