#include "json/json_input.h"

#include <cmath>
#include <limits>

namespace regulars {
namespace {

// Maximum nesting of `text`, counting only brackets outside strings; stops early past
// the limit. A cheap pass that keeps the recursive parser away from hostile depth.
bool NestingWithinLimit(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

std::string LineAndColumn(std::string_view text, size_t byte_offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte_offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// nlohmann's message is "[json.exception.parse_error.101] parse error at line L, column C:
// DETAIL; last read: 'TOKEN'". Only DETAIL is kept: TOKEN is the caller's own bytes, which
// may be a payment card number, and errors are logged and shown.
std::string ParseErrorDetail(std::string_view what) {
  auto column = what.find(", column ");
  auto start = column == std::string_view::npos ? column : what.find(": ", column);
  if (start == std::string_view::npos) return "syntax error";
  std::string_view detail = what.substr(start + 2);
  detail = detail.substr(0, detail.find("; last read"));
  return std::string(detail);
}

const char* TypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number with a fraction";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

}  // namespace

Result<Json> ParseJson(std::string_view text, const std::string& code, const std::string& source) {
  std::string prefix = source.empty() ? "" : source + ": ";
  if (!NestingWithinLimit(text, kMaxJsonDepth)) {
    return Error::BadInput(code,
                           "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                           prefix.empty() ? "" : source);
  }
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.byte is 1-based: the position just after the offending character.
    size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    return Error::BadInput(code, "malformed JSON: " + ParseErrorDetail(e.what()),
                           prefix + LineAndColumn(text, offset));
  } catch (const std::exception&) {
    // Other parser errors (a number too large) quote the input: say only what it is.
    return Error::BadInput(code, "malformed JSON: a number is out of range", source);
  }
}

std::string JsonPointer(const std::string& base, std::string_view token) {
  std::string out = base + "/";
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string JsonPointer(const std::string& base, size_t index) {
  return base + "/" + std::to_string(index);
}

Status FieldReader::RequireObject(std::string_view what) const {
  if (!object_.is_object()) {
    return Error::BadInput(code_,
                           std::string(what) + " must be a JSON object, not " + TypeName(object_),
                           pointer_.empty() ? "" : pointer_);
  }
  return Status::Ok();
}

bool FieldReader::Has(std::string_view key) const {
  return object_.is_object() && object_.contains(std::string(key)) &&
         !object_.at(std::string(key)).is_null();
}

Result<std::string> FieldReader::String(std::string_view key, size_t max_length) const {
  if (!Has(key)) return Fail(key, std::string(key) + " is required");
  const Json& v = Get(key);
  if (!v.is_string()) return Fail(key, std::string(key) + " must be a string, not " + TypeName(v));
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty()) return Fail(key, std::string(key) + " must not be empty");
  if (s.size() > max_length) {
    return Fail(key, std::string(key) + " is longer than " + std::to_string(max_length) + " bytes");
  }
  return s;
}

Result<std::optional<std::string>> FieldReader::OptionalString(std::string_view key,
                                                               size_t max_length) const {
  if (!Has(key)) return std::optional<std::string>();
  REGULARS_ASSIGN_OR_RETURN(auto s, String(key, max_length));
  return std::optional<std::string>(std::move(s));
}

Result<int64_t> FieldReader::Integer(std::string_view key, int64_t min, int64_t max) const {
  if (!Has(key)) return Fail(key, std::string(key) + " is required");
  const Json& v = Get(key);
  std::string name(key);
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Fail(key, name + " is too large");
    }
  } else if (v.is_number_float() && std::isfinite(v.get<double>()) &&
             std::trunc(v.get<double>()) == v.get<double>()) {
    // 1e30 or 3.0: a whole number, written as a float (and 1e30 beyond any integer here).
    if (std::fabs(v.get<double>()) >= 9.2e18) return Fail(key, name + " is too large");
    return Fail(key, name + " must be written as an integer, without a decimal point or exponent");
  } else if (!v.is_number_integer()) {
    return Fail(key, name + " must be an integer, not " + TypeName(v));
  }
  int64_t n = v.get<int64_t>();
  if (n < min) {
    if (min == 1) return Fail(key, name + " must be a positive integer");
    if (min == 0) return Fail(key, name + " must not be negative");
    return Fail(key, name + " must be at least " + std::to_string(min));
  }
  if (n > max) return Fail(key, name + " must be at most " + std::to_string(max));
  return n;
}

Result<std::optional<int64_t>> FieldReader::OptionalInteger(std::string_view key, int64_t min,
                                                            int64_t max) const {
  if (!Has(key)) return std::optional<int64_t>();
  REGULARS_ASSIGN_OR_RETURN(auto n, Integer(key, min, max));
  return std::optional<int64_t>(n);
}

Result<std::vector<std::string>> FieldReader::OptionalStrings(std::string_view key) const {
  std::vector<std::string> out;
  if (!Has(key)) return out;
  const Json& v = Get(key);
  if (!v.is_array()) {
    return Fail(key, std::string(key) + " must be an array of strings, not " + TypeName(v));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || v[i].get_ref<const std::string&>().empty()) {
      return Error::BadInput(code_, std::string(key) + " must hold non-empty strings",
                             JsonPointer(PointerTo(key), i));
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

Result<const Json*> FieldReader::Array(std::string_view key) const {
  if (!Has(key)) return Fail(key, std::string(key) + " is required");
  const Json& v = Get(key);
  if (!v.is_array()) return Fail(key, std::string(key) + " must be an array, not " + TypeName(v));
  return &v;
}

}  // namespace regulars
