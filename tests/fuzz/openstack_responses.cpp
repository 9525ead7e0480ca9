// OpenStack answers as a cloud (or a proxy in front of it) might send them: the first byte
// picks one of the client's parsers (responses.cpp, Keystone's token response, the error
// classification of errors.cpp, the endpoint allowlist and URL helpers), the rest is the
// body. A parser either returns a value or a `malformed_response` that names what is wrong;
// it never throws and never crashes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "orch/openstack/errors.hpp"
#include "orch/openstack/keystone.hpp"
#include "orch/openstack/responses.hpp"
#include "orch/openstack/url.hpp"

namespace os = orch::openstack;

namespace {

template <class T>
void check(const os::result<T>& res) {
  if (res.ok()) return;
  const auto& err = res.error();
  ORCH_FUZZ_ASSERT(err.kind == os::os_error_kind::malformed_response);
  ORCH_FUZZ_ASSERT(!err.message.empty());
  ORCH_FUZZ_ASSERT(!os::to_string(err).empty());
}

template <class T>
void check_page(const os::result<os::page<T>>& res) {
  check(res);
  if (res.ok() && res->next) (void)os::parse_url(*res->next);
}

// The token answer, then what the client does with it: pick endpoints and check them
// against the allowlist.
void fuzz_token(std::string_view body, bool with_token_header) {
  os::http_headers headers;
  if (with_token_header) headers.emplace_back("X-Subject-Token", "gAAAAABfuzz-token");
  auto token = os::parse_token_response(headers, body);
  check(token);
  if (!token.ok()) return;
  ORCH_FUZZ_ASSERT(!token->id.empty());
  auto allow = os::endpoint_allowlist::parse("", "http://127.0.0.1:5000/identity/v3");
  for (auto svc : {os::service::identity, os::service::compute, os::service::network,
                   os::service::block_storage, os::service::image}) {
    auto url = os::select_endpoint(token->catalog, svc, "RegionOne", "public");
    if (!url.ok()) {
      ORCH_FUZZ_ASSERT(url.error().kind == os::os_error_kind::endpoint_refused);
      continue;
    }
    (void)allow.allows(*url);
    (void)os::join_url(*url, "/servers/detail");
  }
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours{1};
  auto refresh = os::token_refresh_at(*token, now, std::chrono::minutes{5});
  (void)refresh;
}

// An error answer: service, status (100..599) and headers come from the first four bytes.
void fuzz_classify(std::string_view input) {
  if (input.size() < 4) return;
  auto byte
    = [&](std::size_t i) { return static_cast<unsigned>(static_cast<std::uint8_t>(input[i])); };
  auto svc = static_cast<os::service>(byte(0) % 5);
  auto status = static_cast<int>(100 + ((byte(1) << 8) | byte(2)) % 500);
  os::http_headers headers;
  if (byte(3) & 1) headers.emplace_back("x-openstack-request-id", "req-fuzz");
  auto body = input.substr(4);
  if (byte(3) & 2) {
    // The first line of the body is the Retry-After value.
    auto eol = body.find('\n');
    headers.emplace_back("Retry-After", std::string{body.substr(0, eol)});
    body = eol == std::string_view::npos ? std::string_view{} : body.substr(eol + 1);
  }
  auto now = orch::timestamp{std::chrono::seconds{1'767'225'600}};
  auto err = os::classify(svc, status, headers, body, now);
  ORCH_FUZZ_ASSERT(err.http_status == status);
  if (err.retry_after) ORCH_FUZZ_ASSERT(err.retry_after->count() > 0);
  ORCH_FUZZ_ASSERT(!os::to_string(err).empty());
  auto caf_err = os::to_caf_error(err);
  ORCH_FUZZ_ASSERT(static_cast<bool>(caf_err));
}

// `OPENSTACK_ENDPOINT_ALLOWLIST` and a URL to test against it, split at the first newline.
void fuzz_allowlist(std::string_view input) {
  auto eol = input.find('\n');
  auto list = input.substr(0, eol);
  auto url = eol == std::string_view::npos ? std::string_view{} : input.substr(eol + 1);
  auto allow = os::endpoint_allowlist::parse(list, "http://127.0.0.1:5000/identity/v3");
  auto parsed = os::parse_url(url);
  // A URL that does not parse is never allowed.
  if (!parsed) ORCH_FUZZ_ASSERT(!allow.allows(url));
  (void)os::url_encode(url);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto body = orch::fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 22) {
    case 0: check(os::parse_network(body)); break;
    case 1: check_page(os::parse_networks(body)); break;
    case 2: check(os::parse_subnet(body)); break;
    case 3: check_page(os::parse_subnets(body)); break;
    case 4: check(os::parse_router(body)); break;
    case 5: check_page(os::parse_routers(body)); break;
    case 6: check(os::parse_router_interface(body)); break;
    case 7: check_page(os::parse_ports(body)); break;
    case 8: check(os::parse_tags(body)); break;
    case 9: check(os::parse_server_create(body)); break;
    case 10: check(os::parse_server(body)); break;
    case 11: check_page(os::parse_servers_detail(body)); break;
    case 12: check(os::parse_volume_attachment(body)); break;
    case 13: check(os::parse_volume_attachments(body)); break;
    case 14: check_page(os::parse_flavors(body)); break;
    case 15: check(os::parse_volume(body)); break;
    case 16: check_page(os::parse_volumes(body)); break;
    case 17: check_page(os::parse_images(body)); break;
    case 18: fuzz_token(body, true); break;
    case 19: fuzz_token(body, false); break;
    case 20: fuzz_classify(body); break;
    default: fuzz_allowlist(body); break;
  }
  return 0;
}
