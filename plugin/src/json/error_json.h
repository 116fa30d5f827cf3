// The error JSON of Contract v1, rendered in one place for the C ABI, the HTTP service and
// the command line, so the three can never drift apart:
//   {"error":{"code":"invalid_basket","message":"...","where":"/lines/0/qty"}}
#pragma once

#include <string>
#include <string_view>

#include "result.h"

namespace regulars {

// One line of compact JSON, keys in the order code, message, where; `where` is "" when
// nothing locates the problem. Invalid UTF-8 in the texts is replaced, never thrown on.
std::string ErrorJson(const Error& error);

// The same for an error that is not an Error value (a command line's own usage errors).
std::string ErrorJson(std::string_view code, std::string_view message, std::string_view where);

}  // namespace regulars
