#pragma once

// What the per-service files share: the cloud's private state, the router and the helpers
// that shape answers the way each OpenStack service does.

#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "orch/sim/cloud.hpp"
#include "state.hpp"

namespace orch::sim {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Error envelope family of a service (openstack-api/README.md §1.3).
enum class service_family { identity, compute, network, volume, image, control };

struct impl_state;
struct call;

using route_fn = std::function<response(impl_state&, call&)>;

struct route {
  std::string method;
  service_family family = service_family::control;
  std::string service;
  std::string pattern;
  std::vector<std::string> segments;
  bool needs_auth = true;
  route_fn fn;
  uint64_t calls = 0;
};

/// One request being answered.
struct call {
  const request& req;
  time_point now;
  const route* matched = nullptr;
  /// Values of the `{...}` segments, in order.
  std::vector<std::string> params;
  /// Decoded query parameters in order of appearance.
  std::vector<std::pair<std::string, std::string>> query;
  const token* auth = nullptr;
  /// Microversion as major * 1000 + minor (Nova and Cinder).
  int microversion = 0;
  std::string request_id;

  /// First value of query parameter `key`.
  std::optional<std::string> arg(std::string_view key) const;
  /// All values of query parameter `key`.
  std::vector<std::string> args(std::string_view key) const;
};

/// The whole mutable state of one simulated cloud.
struct impl_state {
  cloud_config cfg;
  std::mt19937_64 rng;
  uint64_t seq = 0;

  std::vector<flavor> flavors;
  std::vector<image> images;
  std::map<std::string, project> projects;
  std::map<std::string, user> users;
  std::unordered_map<std::string, token> tokens;

  std::map<std::string, network> networks;
  std::map<std::string, subnet> subnets;
  std::map<std::string, port> ports;
  std::map<std::string, router> routers;
  std::map<std::string, security_group> security_groups;
  std::map<std::string, security_group_rule> security_group_rules;
  std::map<std::string, floating_ip> floating_ips;
  std::string public_network_id;

  /// Keyed by user id, then key name (Nova keypairs belong to users, not projects).
  std::map<std::pair<std::string, std::string>, keypair> keypairs;
  std::unordered_map<std::string, server> servers;
  std::map<uint64_t, std::string> server_order;
  std::vector<server_tombstone> deleted_servers;
  std::unordered_map<std::string, volume> volumes;
  std::map<uint64_t, std::string> volume_order;

  std::priority_queue<event, std::vector<event>, std::greater<>> events;

  std::vector<route> routes;
  std::vector<fault_rule> faults;
  uint64_t next_fault_id = 1;
  int failing_boots = 0;

  explicit impl_state(cloud_config config);

  /// Restores the initial state (users, flavors, images, the `public` network).
  void reset();

  // Identifiers and randomness, all drawn from the seeded generator.
  std::string new_uuid();
  std::string new_hex_id();
  std::string new_token_id();
  std::string new_mac();
  std::chrono::milliseconds draw(const duration_dist& d);
  /// Schedules `kind` for object `id` after a draw from `d`; nothing if `d` is `never`.
  void schedule(time_point now, const duration_dist& d, event_kind kind, const std::string& id,
                uint64_t generation, std::string arg = {});
  /// Applies every transition due at or before `now`.
  void advance(time_point now);

  const flavor* find_flavor(std::string_view id_or_name) const;
  const image* find_image(std::string_view id) const;
  const project* find_project(std::string_view id) const;

  // Cross-service operations (Nova drives Neutron and Cinder as the real services do).
  /// Allocates an address from `sn` (a specific one if `wanted` is set); `nullopt` if taken,
  /// outside the subnet or the pools are exhausted.
  std::optional<std::string> allocate_ip(subnet& sn, std::optional<std::string> wanted);
  void release_ips(const port& p);
  /// Creates a port on `net` with one address from each of its subnets (or the one asked for).
  port& create_port(const network& net, const std::string& project_id, std::vector<fixed_ip> wanted,
                    std::string device_owner, std::string device_id, time_point now);
  void delete_port(const std::string& id);
  void on_server_deleted(const std::string& id, time_point now);
};

// -- time and text ------------------------------------------------------------------------

/// `2026-01-15T10:30:00Z`.
std::string iso_seconds(time_point t);
/// `2026-01-15T10:30:00.000000Z` (Keystone).
std::string iso_micros(time_point t);
/// `2026-01-15T10:30:00.000000` (Cinder, no zone).
std::string iso_micros_naive(time_point t);
/// Parses ISO 8601 as Nova's `changes-since` accepts it; `nullopt` if malformed.
std::optional<time_point> parse_iso(std::string_view text);
std::string percent_decode(std::string_view text);
std::string percent_encode(std::string_view text);

// -- answers ------------------------------------------------------------------------------

response json_response(int status, std::string body);
response empty_response(int status);
/// `{"<faultName>": {"code": N, "message": "..."}}` as Nova and Cinder shape faults.
response nova_fault(int status, std::string_view message, std::optional<int> retry_after = {});
/// `{"NeutronError": {"type", "message", "detail"}}`.
response neutron_error(int status, std::string_view type, std::string_view message);
/// `{"error": {"code", "title", "message"}}` as Keystone and keystonemiddleware shape them.
response keystone_error(int status, std::string_view message);
/// An error in the envelope of `family`.
response family_error(service_family family, int status, std::string_view message,
                      std::optional<int> retry_after = {});

/// Parses a JSON request body; `nullopt` if it is not a JSON object.
std::optional<rapidjson::Document> parse_body(const request& req);

// JSON writing shorthands.
void write_str(json_writer& w, std::string_view s);
void write_opt(json_writer& w, const std::optional<std::string>& s);
void write_strings(json_writer& w, const std::vector<std::string>& xs);
void write_map(json_writer& w, const std::map<std::string, std::string>& xs);
std::string_view str_of(const rapidjson::Value& v);
/// What `fn` writes, as text.
std::string render(const std::function<void(json_writer&)>& fn);
/// `{"<key>": <what fn writes>}` with `status`.
response single(int status, std::string_view key, const std::function<void(json_writer&)>& fn);
/// Neutron's 400 `HTTPBadRequest`.
response neutron_bad_request(std::string_view message);
/// The string member `key` of a request body, if it is one.
std::optional<std::string> opt_string(const rapidjson::Value& body, const char* key);
/// `a,b,,c` -> `a`, `b`, `c` (tag filters).
std::vector<std::string> split_commas(std::string_view text);

// -- route registration per service ---------------------------------------------------------

using route_adder = std::function<void(std::string method, std::string pattern, route_fn fn)>;

void add_keystone_routes(impl_state& st);
void add_nova_routes(impl_state& st);
void add_neutron_routes(impl_state& st);
void add_security_group_routes(impl_state& st);
void add_floating_ip_routes(impl_state& st);
void add_cinder_routes(impl_state& st);
void add_glance_routes(impl_state& st);
void add_control_routes(impl_state& st);

/// Registers one route (pattern segments `{name}` match any one segment).
void add_route(impl_state& st, service_family family, std::string service, std::string method,
               std::string pattern, route_fn fn, bool needs_auth = true);

// Renderers other services reuse (state dump).
void write_server(json_writer& w, impl_state& st, const server& s, const call& c);
void write_network(json_writer& w, const network& n);
void write_subnet(json_writer& w, const subnet& s);
void write_port(json_writer& w, const port& p);
void write_router(json_writer& w, impl_state& st, const router& r);
void write_security_group(json_writer& w, const impl_state& st, const security_group& g);
void write_security_group_rule(json_writer& w, const security_group_rule& r);
void write_floating_ip(json_writer& w, const impl_state& st, const floating_ip& f);
void write_volume(json_writer& w, impl_state& st, const volume& v, const call& c);
void write_image(json_writer& w, impl_state& st, const image& i);

/// The catalog of the token body.
void write_catalog(json_writer& w, impl_state& st, const std::string& project_id);

// -- addresses (ip.cpp) --------------------------------------------------------------------

struct cidr {
  int version = 4;
  std::array<uint8_t, 16> base{};
  int prefix = 0;
};

std::optional<cidr> parse_cidr(std::string_view text);
std::optional<std::array<uint8_t, 16>> parse_address(std::string_view text, int version);
/// Offset of `addr` from the network address of `net`, `nullopt` if outside it.
std::optional<uint64_t> offset_in(const cidr& net, const std::array<uint8_t, 16>& addr);
std::string address_at(int version, const std::array<uint8_t, 16>& base, uint64_t offset);
/// Number of the last host offset (broadcast excluded for IPv4).
uint64_t last_offset(const cidr& net);

} // namespace orch::sim

namespace orch::sim {

/// Creates the port Nova makes for a `{"uuid": net}` NIC (neutron.cpp); an error answer in
/// Neutron's shape if no address is left or a wanted one is taken.
/// The project's `default` security group, made on first use as Neutron does.
security_group& default_security_group(impl_state& st, const std::string& project_id,
                                       time_point now);

/// Adds a rule to `group` (no validation; used for the default rules).
security_group_rule& add_rule(impl_state& st, const security_group& group, std::string direction,
                              std::string ethertype, std::optional<std::string> remote_group,
                              time_point now);

/// Neutron's filtered, paged list of rendered objects (neutron.cpp).
response neutron_list(const impl_state& st, const call& c, const std::string& collection,
                      const std::vector<std::string>& objects);

/// Objects to refuse a router change for: the floating IPs that reach `router_id` through
/// `subnet_id` (or through any subnet if empty).
std::vector<std::string> floating_ips_via(const impl_state& st, const std::string& router_id,
                                          const std::string& subnet_id);

/// Disassociates the floating IPs bound to port `port_id` (the port is going away).
void release_floating_ips_of(impl_state& st, const std::string& port_id);

/// The `--state-file` snapshot of `st` (snapshot.cpp).
std::string save_snapshot(const impl_state& st);

/// Replaces the state of `st` with a snapshot; the reason if it cannot be read (then `st` may
/// be half loaded: reset it).
std::optional<std::string> load_snapshot(impl_state& st, std::string_view text);

std::optional<response> nova_allocate_port(impl_state& st, const network& net,
                                           std::vector<fixed_ip> wanted, std::string& port_id,
                                           const std::string& project_id,
                                           const std::string& server_id, time_point now);

} // namespace orch::sim
