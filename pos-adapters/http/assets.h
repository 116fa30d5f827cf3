// Files embedded in the binary at build time: the cashier panel (pos-adapters/http/panel/)
// and the OpenAPI document (docs/openapi.json), so the service needs nothing on disk.
#pragma once

#include <string_view>
#include <vector>

namespace regulars::http {

struct Asset {
  std::string_view name;  // "index.html"
  std::string_view content_type;
  std::string_view bytes;
};

const std::vector<Asset>& PanelAssets();
std::string_view OpenApiDocument();

}  // namespace regulars::http
