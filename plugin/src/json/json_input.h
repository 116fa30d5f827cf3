// Reading JSON that crosses a boundary: parse with a position on failure, then read
// fields with a JSON pointer in every error.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace regulars {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Nesting deeper than this is refused before parsing, so no input can exhaust the stack.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`. On failure the error has `code`, says what is wrong, and `where` is
// "line L, column C" (of `source`, a file name, when given).
Result<Json> ParseJson(std::string_view text, const std::string& code,
                       const std::string& source = {});

// Serialises for output. Invalid UTF-8 (which only a caller's own bytes can hold) is
// replaced rather than thrown on.
inline std::string ToText(const OrderedJson& json) {
  return json.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

// `v` as a 64-bit integer, or nothing when it is not an integer in that range. (Json's own
// get<int64_t>() converts a float or a larger unsigned by a cast, undefined past range.)
inline std::optional<int64_t> AsInt64(const Json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

// Appends one reference token to a JSON pointer, escaping "~" and "/" (RFC 6901).
std::string JsonPointer(const std::string& base, std::string_view token);
std::string JsonPointer(const std::string& base, size_t index);

// Reads the fields of one JSON object. Every error carries the reader's error code and
// the JSON pointer of the offending field.
class FieldReader {
 public:
  FieldReader(const Json& object, std::string pointer, std::string code)
      : object_(object), pointer_(std::move(pointer)), code_(std::move(code)) {}

  // Fails unless the value at the reader's pointer is an object.
  Status RequireObject(std::string_view what) const;

  bool Has(std::string_view key) const;
  const Json& Get(std::string_view key) const { return object_.at(std::string(key)); }

  // A non-empty string of at most `max_length` bytes.
  Result<std::string> String(std::string_view key, size_t max_length = 200) const;
  Result<std::optional<std::string>> OptionalString(std::string_view key,
                                                    size_t max_length = 200) const;
  // An integer (never a float, never a string) within [min, max].
  Result<int64_t> Integer(std::string_view key, int64_t min, int64_t max) const;
  Result<std::optional<int64_t>> OptionalInteger(std::string_view key, int64_t min,
                                                 int64_t max) const;
  // An array of non-empty strings; an absent key gives an empty list.
  Result<std::vector<std::string>> OptionalStrings(std::string_view key) const;
  // An array of objects or values (presence is required).
  Result<const Json*> Array(std::string_view key) const;

  const Json& object() const { return object_; }
  std::string PointerTo(std::string_view key) const { return JsonPointer(pointer_, key); }
  const std::string& pointer() const { return pointer_; }
  const std::string& code() const { return code_; }
  Error Fail(std::string_view key, std::string message) const {
    return Error::BadInput(code_, std::move(message), PointerTo(key));
  }

 private:
  const Json& object_;
  std::string pointer_;
  std::string code_;
};

}  // namespace regulars
