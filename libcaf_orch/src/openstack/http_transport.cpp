#include "orch/openstack/http_transport.hpp"

#include <algorithm>
#include <cctype>

namespace orch::openstack {

namespace {

bool iequals(std::string_view x, std::string_view y) {
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a))
                  == std::tolower(static_cast<unsigned char>(b));
         });
}

} // namespace

std::optional<std::string_view> find_header(const http_headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return std::string_view{value};
  return std::nullopt;
}

std::string to_string(transport_error x) {
  switch (x) {
    case transport_error::connect_failed: return "connect_failed";
    case transport_error::timeout: return "timeout";
    case transport_error::connection_reset: return "connection_reset";
    case transport_error::response_too_large: return "response_too_large";
  }
  return "unknown";
}

http_transport::~http_transport() {
  // nop
}

timer::~timer() {
  // nop
}

clock::~clock() {
  // nop
}

} // namespace orch::openstack
