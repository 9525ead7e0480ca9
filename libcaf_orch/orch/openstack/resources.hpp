#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orch/time.hpp"

namespace orch::openstack {

// -- Neutron ------------------------------------------------------------------------------

/// Desired network (`POST /v2.0/networks`). Tags are set by a second call: Neutron refuses
/// `tags` in the create body.
struct network_spec {
  std::string name;
  std::string description;
  bool admin_state_up = true;
  std::optional<int> mtu;
};

/// A network as Neutron reports it.
struct network {
  std::string id;
  std::string name;
  std::string status;
  std::vector<std::string> subnet_ids;
  std::vector<std::string> tags;
  bool external = false;
};

/// A range of addresses a subnet hands out.
struct allocation_pool {
  std::string start;
  std::string end;

  friend bool operator==(const allocation_pool&, const allocation_pool&) = default;
};

/// How a subnet gets its gateway.
enum class gateway_mode {
  /// Omitted: Neutron picks the first host address.
  automatic,
  /// `gateway_ip` as given.
  explicit_address,
  /// `null`: no gateway (the subnet cannot be attached to a router).
  none,
};

/// Desired subnet (`POST /v2.0/subnets`).
struct subnet_spec {
  std::string network_id;
  std::string name;
  std::string description;
  std::string cidr;
  int ip_version = 4;
  gateway_mode gateway = gateway_mode::automatic;
  /// Used with `gateway_mode::explicit_address`.
  std::string gateway_ip;
  /// Empty: the whole CIDR minus the gateway.
  std::vector<allocation_pool> allocation_pools;
  std::optional<bool> enable_dhcp;
  std::vector<std::string> dns_nameservers;
};

/// A subnet as Neutron reports it.
struct subnet {
  std::string id;
  std::string name;
  std::string network_id;
  std::string cidr;
  int ip_version = 4;
  /// Empty when the subnet has no gateway.
  std::string gateway_ip;
  std::vector<allocation_pool> allocation_pools;
  std::vector<std::string> tags;
};

/// Desired router (`POST /v2.0/routers`).
struct router_spec {
  std::string name;
  std::string description;
  /// Sets `external_gateway_info.network_id` (only that: the rest is admin-only by policy).
  std::optional<std::string> external_network_id;
};

/// An address a router holds on an external network.
struct fixed_ip {
  std::string subnet_id;
  std::string ip_address;
};

/// A router as Neutron reports it.
struct router {
  std::string id;
  std::string name;
  std::string status;
  /// Empty when the router has no gateway.
  std::string external_network_id;
  std::vector<fixed_ip> external_fixed_ips;
  std::vector<std::string> tags;
};

/// The answer of `add_router_interface` / `remove_router_interface`.
struct router_interface {
  std::string router_id;
  std::string port_id;
  std::string subnet_id;
  std::string network_id;
};

/// A port as Neutron reports it.
struct port {
  std::string id;
  std::string name;
  std::string network_id;
  std::string device_id;
  std::string device_owner;
  std::string status;
  std::vector<fixed_ip> fixed_ips;
  std::vector<std::string> tags;
};

/// Filters of `GET /v2.0/ports`; empty fields are not sent.
struct port_filter {
  std::string device_id;
  std::string network_id;
  std::string device_owner;
  /// Ports carrying all of these tags.
  std::vector<std::string> tags;
};

/// Neutron resource collections that carry tags.
enum class neutron_collection { networks, subnets, routers, ports, security_groups };

// -- Nova ---------------------------------------------------------------------------------

/// One NIC of a new server: a network or a pre-created port.
struct server_nic {
  std::string network_id;
  std::string port_id;
  std::string fixed_ip;
};

/// One entry of `block_device_mapping_v2`.
struct block_device {
  /// `image`, `volume`, `snapshot` or `blank`.
  std::string source_type = "image";
  /// `volume` or `local`.
  std::string destination_type = "volume";
  /// Required unless `source_type` is `blank`.
  std::string uuid;
  std::optional<int> boot_index;
  std::optional<int> volume_size_gb;
  /// Nova's default is false, which leaks boot volumes: ours is true.
  bool delete_on_termination = true;
  std::string volume_type;
};

/// Desired server (`POST /servers`, microversion 2.90).
struct server_spec {
  std::string name;
  std::string flavor_ref;
  /// May be empty for boot-from-volume with a `boot_index: 0` mapping.
  std::string image_ref;
  /// Empty list: `"networks": "none"`.
  std::vector<server_nic> networks;
  std::map<std::string, std::string> metadata;
  /// At most 50, each 1..60 characters without `/` or `,`.
  std::vector<std::string> tags;
  std::string key_name;
  /// Raw cloud-init data; base64-encoded by the builder.
  std::string user_data;
  std::vector<block_device> block_devices;
  std::string availability_zone;
};

/// One address of a server on one network.
struct server_address {
  std::string network;
  std::string addr;
  int version = 4;
  /// `fixed` or `floating`.
  std::string type;
  std::string mac;
};

/// A server as Nova reports it (`GET /servers/{id}` or `/servers/detail`).
struct server {
  std::string id;
  std::string name;
  /// ACTIVE, BUILD, ERROR, VERIFY_RESIZE, DELETED, ... as sent.
  std::string status;
  std::string vm_state;
  /// Empty when idle.
  std::string task_state;
  /// Flavor id (below 2.47) or empty.
  std::string flavor_id;
  /// Flavor name embedded at 2.47+ (`original_name`), or empty.
  std::string flavor_name;
  /// Empty for boot-from-volume.
  std::string image_id;
  std::string key_name;
  std::vector<server_address> addresses;
  std::map<std::string, std::string> metadata;
  std::vector<std::string> tags;
  std::optional<timestamp> created;
  std::optional<timestamp> updated;
  /// Set for ERROR servers.
  std::optional<int> fault_code;
  std::string fault_message;
};

/// The answer of `POST /servers`.
struct created_server {
  std::string id;
};

/// Filters of `GET /servers/detail`.
struct server_filters {
  /// Exact name: sent as an anchored, escaped regex and re-checked on the results.
  std::string name;
  std::vector<std::string> statuses;
  /// All of these tags (`tags=a,b`).
  std::vector<std::string> tags;
  std::optional<timestamp> changes_since;
  /// Page size; 0 leaves it to the cloud.
  int limit = 0;
};

/// `POST /servers/{id}/action` bodies the orchestrator sends.
enum class server_action_kind { resize, confirm_resize, revert_resize, rebuild };

/// A server action and its argument (flavor for resize, image for rebuild).
struct server_action {
  server_action_kind kind = server_action_kind::confirm_resize;
  std::string flavor_ref;
  std::string image_ref;
};

/// A volume attached through Nova.
struct volume_attachment {
  std::string volume_id;
  std::string server_id;
  std::string device;
  std::string tag;
  bool delete_on_termination = false;
};

/// A flavor (`GET /flavors/detail`).
struct flavor {
  std::string id;
  std::string name;
  int vcpus = 0;
  int ram_mb = 0;
  int disk_gb = 0;
  bool is_public = true;
};

// -- Cinder -------------------------------------------------------------------------------

/// Desired volume (`POST /v3/{project}/volumes`). Ownership marks go in `metadata`: Cinder
/// has no tags.
struct volume_spec {
  int size_gb = 1;
  std::string name;
  std::string description;
  std::string volume_type;
  std::string availability_zone;
  std::string image_ref;
  std::map<std::string, std::string> metadata;
};

/// One attachment inside a volume body.
struct volume_server_attachment {
  std::string server_id;
  std::string attachment_id;
  std::string device;
};

/// A volume as Cinder reports it.
struct volume {
  std::string id;
  std::string name;
  std::string status;
  int size_gb = 0;
  bool bootable = false;
  std::vector<volume_server_attachment> attachments;
  /// Non-string metadata values (Cinder allows some) are rendered as JSON text.
  std::map<std::string, std::string> metadata;
};

/// Filters of `GET /volumes/detail`.
struct volume_filters {
  std::string name;
  std::string status;
  /// All pairs must match (`metadata={"k":"v"}`).
  std::map<std::string, std::string> metadata;
  int limit = 0;
};

// -- Glance -------------------------------------------------------------------------------

/// An image (`GET /v2/images`).
struct image {
  std::string id;
  std::string name;
  std::string status;
  std::string visibility;
  std::optional<timestamp> created_at;
  int min_disk_gb = 0;
  int min_ram_mb = 0;
};

} // namespace orch::openstack
