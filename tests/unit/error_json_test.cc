// The one renderer of Contract v1's error JSON: the C ABI, the HTTP service and the command
// line all print these bytes, so they are pinned here.
#include "json/error_json.h"

#include <gtest/gtest.h>

namespace regulars {
namespace {

TEST(ErrorJson, RendersCodeMessageAndWhereInThatOrderOnOneLine) {
  EXPECT_EQ(ErrorJson(Error::BadInput("invalid_basket", "qty must be a positive integer",
                                      "/lines/0/qty")),
            R"({"error":{"code":"invalid_basket","message":"qty must be a positive integer",)"
            R"("where":"/lines/0/qty"}})");
}

TEST(ErrorJson, KeepsAnEmptyWhereAndEscapesQuotes) {
  EXPECT_EQ(ErrorJson("internal", "a \"quoted\" word", ""),
            R"({"error":{"code":"internal","message":"a \"quoted\" word","where":""}})");
}

TEST(ErrorJson, ReplacesInvalidUtf8RatherThanThrowing) {
  EXPECT_EQ(ErrorJson("invalid_arguments", "cannot open \xff", "--device"),
            "{\"error\":{\"code\":\"invalid_arguments\",\"message\":\"cannot open \xEF\xBF\xBD\","
            "\"where\":\"--device\"}}");
}

}  // namespace
}  // namespace regulars
