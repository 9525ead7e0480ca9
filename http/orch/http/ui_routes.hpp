#pragma once

#include <string_view>
#include <vector>

#include "orch/http/gateway.hpp"

namespace orch::http {

/// One file of the web UI (`http/ui/`), embedded in the binary at build time by
/// `http/embed_ui.cmake`.
struct ui_asset {
  /// The file name, which is its path under `/ui/` (`index.html`, `app.js`).
  std::string_view name;
  /// The `Content-Type` it is served with.
  std::string_view media_type;
  /// The file's bytes.
  std::string_view body;
  /// A strong entity tag, quotes included: a prefix of the file's SHA-256.
  std::string_view etag;
};

/// Every file of the web UI, in the order `http/CMakeLists.txt` lists them.
const std::vector<ui_asset>& ui_assets();

/// The `Content-Security-Policy` of every UI answer: scripts, styles and API calls from this
/// origin only, no inline script or style, no frames, no plugins, forms posting nowhere.
inline constexpr std::string_view ui_content_security_policy
  = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Adds the web UI, open without a key (the page asks for one and sends it with its API calls):
/// - `GET /ui` → 308 to `/ui/`, so that the page's relative links resolve under `/ui/`
/// - `GET /ui/` → `index.html`
/// - `GET /ui/{name}` → the embedded file `name`; 404 problem+json for any other name
/// Each file is answered with its media type, `ETag` and `Cache-Control: no-cache` (a client
/// revalidates, and `If-None-Match` with the current tag gets 304 without a body), the
/// `Content-Security-Policy` above, `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`
/// and `Referrer-Policy: no-referrer`.
void add_ui_routes(gateway& gw);

} // namespace orch::http
