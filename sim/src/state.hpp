#pragma once

// Internal model of the simulated cloud: plain data, owned by `cloud::impl`.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "orch/sim/cloud.hpp"

namespace orch::sim {

struct flavor {
  std::string id;
  std::string name;
  int vcpus = 1;
  int ram = 512;
  int disk = 1;
};

struct image {
  std::string id;
  std::string name;
  std::string status = "active";
  std::string disk_format = "qcow2";
  std::string os_distro;
  int64_t size = 0;
  int min_disk = 0;
  std::string checksum;
  std::string created;
};

struct domain_ref {
  std::string id;
  std::string name;
};

struct project {
  std::string id;
  std::string name;
  domain_ref domain;
};

struct user {
  std::string id;
  std::string name;
  std::string password;
  domain_ref domain;
  std::string project_id;
};

struct token {
  std::string id;
  std::string user_id;
  std::string project_id;
  std::string audit_id;
  time_point issued;
  time_point expires;
};

/// A subnet's addresses are kept as offsets from the network address, so IPv4 and IPv6
/// (prefix >= 64) share one allocator.
struct ip_range {
  uint64_t first = 0;
  uint64_t last = 0;
};

struct subnet {
  std::string id;
  std::string name;
  std::string description;
  std::string network_id;
  std::string project_id;
  int ip_version = 4;
  std::array<uint8_t, 16> base{};
  int prefix = 24;
  std::optional<uint64_t> gateway;
  std::vector<ip_range> pools;
  std::set<uint64_t> allocated;
  bool enable_dhcp = true;
  std::vector<std::string> dns_nameservers;
  std::optional<std::string> ipv6_address_mode;
  std::optional<std::string> ipv6_ra_mode;
  std::vector<std::string> tags;
  int revision = 0;
  std::string created;
  std::string updated;
};

struct network {
  std::string id;
  std::string name;
  std::string description;
  std::string project_id;
  bool external = false;
  bool shared = false;
  bool admin_state_up = true;
  int mtu = 1442;
  std::vector<std::string> subnets;
  std::vector<std::string> tags;
  int revision = 0;
  std::string created;
  std::string updated;
};

struct fixed_ip {
  std::string subnet_id;
  std::string ip_address;
};

struct port {
  std::vector<std::string> security_groups;
  std::string id;
  std::string name;
  std::string description;
  std::string network_id;
  std::string project_id;
  std::string mac_address;
  std::string device_id;
  std::string device_owner;
  std::vector<fixed_ip> fixed_ips;
  bool admin_state_up = true;
  std::vector<std::string> tags;
  int revision = 0;
  std::string created;
  std::string updated;
};

struct security_group_rule {
  std::string id;
  std::string security_group_id;
  std::string project_id;
  std::string direction = "ingress";
  std::string ethertype = "IPv4";
  std::optional<std::string> protocol;
  std::optional<int> port_range_min;
  std::optional<int> port_range_max;
  std::optional<std::string> remote_group_id;
  std::optional<std::string> remote_ip_prefix;
  std::string description;
  int revision = 0;
  std::string created;
};

struct security_group {
  std::string id;
  std::string name;
  std::string description;
  std::string project_id;
  bool stateful = true;
  std::vector<std::string> tags;
  int revision = 0;
  std::string created;
  std::string updated;
};

struct floating_ip {
  std::string id;
  std::string project_id;
  std::string floating_network_id;
  std::string floating_ip_address;
  std::string subnet_id;
  /// The port Neutron makes to hold the floating address (device_owner network:floatingip).
  std::string own_port_id;
  std::optional<std::string> port_id;
  std::optional<std::string> fixed_ip_address;
  std::optional<std::string> router_id;
  std::string description;
  std::vector<std::string> tags;
  int revision = 0;
  std::string created;
  std::string updated;
};

struct router_gateway {
  std::string network_id;
  std::string port_id;
  bool enable_snat = true;
};

struct router {
  std::string id;
  std::string name;
  std::string description;
  std::string project_id;
  bool admin_state_up = true;
  std::optional<router_gateway> gateway;
  std::vector<std::string> interface_ports;
  std::vector<std::string> tags;
  int revision = 0;
  std::string created;
  std::string updated;
};

struct server_volume {
  std::string volume_id;
  std::string attachment_id;
  std::string bdm_uuid;
  std::string device;
  std::optional<std::string> tag;
  bool delete_on_termination = false;
};

struct server_fault {
  int code = 500;
  std::string message;
  std::string created;
};

struct server_nic {
  std::string port_id;
  /// Nova deletes the ports it created itself; ports passed in are only unbound.
  bool created_by_nova = true;
};

struct server {
  std::string id;
  uint64_t seq = 0;
  std::string name;
  std::string project_id;
  std::string user_id;
  std::string flavor_id;
  std::string old_flavor_id;
  std::string image_id;
  std::optional<std::string> key_name;
  std::optional<std::string> description;
  std::string user_data;
  std::map<std::string, std::string> metadata;
  std::vector<std::string> tags;
  std::string vm_state = "building";
  std::string task_state = "scheduling"; // "" is null
  std::string pre_resize_vm_state;
  int power_state = 0;
  std::string host_id;
  std::string created;
  std::string updated;
  time_point updated_at;
  std::optional<std::string> launched_at;
  std::optional<server_fault> fault;
  std::vector<server_nic> nics;
  std::vector<server_volume> volumes;
  /// Names, as Nova shows them.
  std::vector<std::string> security_groups{"default"};
  /// Bumped on every state change so that a stale scheduled transition is ignored.
  uint64_t generation = 0;
};

struct keypair {
  std::string name;
  std::string user_id;
  std::string type = "ssh";
  std::string public_key;
  std::string fingerprint;
  std::string created;
};

/// A deleted server, kept for `changes-since` listings.
struct server_tombstone {
  std::string id;
  std::string name;
  std::string project_id;
  std::string user_id;
  std::string flavor_id;
  std::string image_id;
  std::string created;
  std::string updated;
  time_point deleted_at;
};

struct volume_attachment {
  std::string server_id;
  std::string attachment_id;
  std::string device;
  std::string attached_at;
};

struct volume {
  std::string id;
  uint64_t seq = 0;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string project_id;
  std::string user_id;
  int size = 1;
  std::string status = "creating";
  std::string image_id;
  std::map<std::string, std::string> metadata;
  std::vector<volume_attachment> attachments;
  std::string created;
  std::optional<std::string> updated;
  uint64_t generation = 0;
};

enum class event_kind {
  server_built,
  server_resized,
  server_resize_confirmed,
  server_resize_reverted,
  server_rebuilt,
  server_deleted,
  volume_created,
  volume_attached,
  volume_detached,
  volume_deleted,
};

struct event {
  time_point due;
  uint64_t seq = 0;
  event_kind kind = event_kind::server_built;
  std::string id;
  uint64_t generation = 0;
  /// Extra argument (e.g. the volume of an attach).
  std::string arg;

  friend bool operator>(const event& x, const event& y) {
    return x.due != y.due ? x.due > y.due : x.seq > y.seq;
  }
};

/// A rule of the control API that perturbs matching calls.
struct fault_rule {
  std::string id;
  /// Route pattern such as `/compute/v2.1/servers/{id}`, or `*`.
  std::string route = "*";
  /// HTTP method, or `*`.
  std::string method = "*";
  /// Status to answer instead of the real one; 0 leaves the answer alone.
  int status = 0;
  /// Probability that a matching call is hit.
  double rate = 1.0;
  std::optional<int> retry_after;
  std::chrono::milliseconds latency{0};
  bool drop = false;
  /// Carry the call out first, then answer `status` (or drop) instead of the real answer: a
  /// proxy's 502/504 after the service did the work.
  bool after = false;
  /// Hit only the n-th matching call (1-based); 0 hits every one.
  uint64_t nth = 0;
  /// Calls this rule may still hit; negative is unlimited.
  int64_t remaining = -1;
  uint64_t matched = 0;
  uint64_t hits = 0;
};

} // namespace orch::sim
