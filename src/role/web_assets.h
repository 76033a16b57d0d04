#pragma once
// The files of web/ (the dashboard every role serves at /), embedded into
// the binary at build time: cmake/embed_web.cmake turns each file into a
// byte array in a generated web_assets.cc, so editing a file rebuilds it.
#include <span>
#include <string_view>

namespace failover::role {

struct WebAsset {
  std::string_view path;          // "/web/app.js": web/app.js
  std::string_view content_type;  // from the file's extension
  std::string_view body;          // static storage
};

// Every embedded file, sorted by path.
std::span<const WebAsset> web_assets();

// The asset at `path` ("/web/style.css"), or nullptr.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace failover::role
