#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orch/openstack/errors.hpp"
#include "orch/openstack/resources.hpp"

namespace orch::openstack {

// Builders of request bodies and query strings. Each validates what the cloud would refuse
// with a 400, so that a bad spec fails before any call with `bad_request` naming the field.
// Query builders return the part after `?` (empty if there is nothing to filter).

/// `{"network": {...}}` for `POST /v2.0/networks`.
result<std::string> build_network_create(const network_spec& spec);

/// `{"subnet": {...}}` for `POST /v2.0/subnets`.
result<std::string> build_subnet_create(const subnet_spec& spec);

/// `{"router": {...}}` for `POST /v2.0/routers`.
result<std::string> build_router_create(const router_spec& spec);

/// `{"router": {"external_gateway_info": ...}}` for `PUT /v2.0/routers/{id}`; `nullopt`
/// clears the gateway (`{}`).
std::string build_router_gateway(const std::optional<std::string>& external_network_id);

/// `{"subnet_id": ...}` for `add_router_interface` / `remove_router_interface`.
std::string build_router_interface(std::string_view subnet_id);

/// `{"tags": [...]}` for `PUT .../tags`, validated against the service's rules (Nova: at
/// most 50 tags of 1..60 characters without `/` or `,`; Neutron: at most 50 of 1..255
/// without `,`).
result<std::string> build_tags(service svc, const std::vector<std::string>& tags);

/// `{"server": {...}}` for `POST /servers` at microversion 2.90.
result<std::string> build_server_create(const server_spec& spec);

/// The body of `POST /servers/{id}/action`.
result<std::string> build_server_action(const server_action& action);

/// The logical name of an action (`resize`, `confirm_resize`, ...), used for retry rules.
std::string to_string(server_action_kind x);

/// `{"volumeAttachment": {...}}` for `POST /servers/{id}/os-volume_attachments`.
std::string build_volume_attach(std::string_view volume_id, bool delete_on_termination);

/// `{"volume": {...}}` for `POST /volumes`.
result<std::string> build_volume_create(const volume_spec& spec);

/// Query of `GET /servers/detail`.
std::string server_detail_query(const server_filters& filters);

/// Query of `GET /v2.0/ports`.
std::string port_query(const port_filter& filter);

/// Query `tags=a,b` (all of) for Nova and Neutron lists.
std::string tags_query(const std::vector<std::string>& tags);

/// Query of `GET /volumes/detail`.
std::string volume_detail_query(const volume_filters& filters);

/// Path segment of a Neutron collection: `networks`, `security-groups`, ...
std::string to_string(neutron_collection x);

/// Escapes `text` for a Nova `name` filter and anchors it (`^...$`), since Nova matches
/// names as unanchored regular expressions.
std::string anchored_regex(std::string_view text);

/// Standard base64 with padding.
std::string base64_encode(std::string_view data);

} // namespace orch::openstack
