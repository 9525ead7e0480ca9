#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orch/openstack/errors.hpp"
#include "orch/openstack/resources.hpp"

namespace orch::openstack {

// Parsers of 2xx bodies. Unknown fields are ignored and optional ones may be missing or
// null; a missing required field or a wrong type gives `malformed_response` naming the
// JSON path (e.g. `servers[3].id: expected a string`). They never throw.

/// One page of a list and the link to the next, if the service sent one.
template <class T>
struct page {
  std::vector<T> items;
  /// The `next` link verbatim (absolute for Nova/Neutron/Cinder, a path for Glance).
  std::optional<std::string> next;
};

result<network> parse_network(std::string_view body);
result<page<network>> parse_networks(std::string_view body);
result<subnet> parse_subnet(std::string_view body);
result<page<subnet>> parse_subnets(std::string_view body);
result<router> parse_router(std::string_view body);
result<page<router>> parse_routers(std::string_view body);
result<router_interface> parse_router_interface(std::string_view body);
result<page<port>> parse_ports(std::string_view body);

/// `{"tags": [...]}` of a tag replace (Nova or Neutron).
result<std::vector<std::string>> parse_tags(std::string_view body);

result<created_server> parse_server_create(std::string_view body);
result<server> parse_server(std::string_view body);
/// `GET /servers/detail`: servers plus the `servers_links` next link.
result<page<server>> parse_servers_detail(std::string_view body);
result<volume_attachment> parse_volume_attachment(std::string_view body);
result<std::vector<volume_attachment>> parse_volume_attachments(std::string_view body);
result<page<flavor>> parse_flavors(std::string_view body);

result<volume> parse_volume(std::string_view body);
result<page<volume>> parse_volumes(std::string_view body);

/// `GET /v2/images`: the images and the top-level `next` path.
result<page<image>> parse_images(std::string_view body);

} // namespace orch::openstack
