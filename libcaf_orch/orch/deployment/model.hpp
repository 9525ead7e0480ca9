#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orch/template_spec.hpp"
#include "orch/template_validation.hpp"
#include "orch/time.hpp"
#include "orch/uuid.hpp"

namespace orch {

// -- statuses -------------------------------------------------------------------------------

/// Lifecycle status of a deployment (API.md, "Deployments").
enum class deployment_status : uint8_t {
  pending,
  in_progress,
  completed,
  failed,
  updating,
  configuring,
  scaling,
  deleting,
  deleted,
};

/// Upper-case API name, e.g. `IN_PROGRESS`.
std::string to_string(deployment_status x);

/// Parses the upper-case API name; `nullopt` otherwise.
std::optional<deployment_status> parse_deployment_status(std::string_view text);

/// `true` while an operation runs on the deployment (a node restarting must resume it).
bool is_busy(deployment_status x) noexcept;

/// Every status, in declaration order.
inline constexpr std::array<deployment_status, 9> all_deployment_statuses{
  deployment_status::pending, deployment_status::in_progress, deployment_status::completed,
  deployment_status::failed,  deployment_status::updating,    deployment_status::configuring,
  deployment_status::scaling, deployment_status::deleting,    deployment_status::deleted};

/// What an operation does.
enum class operation_type : uint8_t { deploy, remove, update, scale, configure };

/// Lower-case API name; `remove` is `delete`.
std::string to_string(operation_type x);

/// Parses the lower-case API name; `nullopt` otherwise.
std::optional<operation_type> parse_operation_type(std::string_view text);

/// How an operation ended, or that it still runs.
enum class operation_status : uint8_t { running, succeeded, failed, cancelled };

/// Lower-case API name.
std::string to_string(operation_status x);

/// Parses the lower-case API name; `nullopt` otherwise.
std::optional<operation_status> parse_operation_status(std::string_view text);

// -- resources ------------------------------------------------------------------------------

/// What a logical resource is. Besides the cloud objects with an id of their own, the links
/// between them (gateway, interface, attachment) are resources too, so that one pair of events
/// (`resource_created`, `resource_deleted`) records every effect.
enum class resource_kind : uint8_t {
  network,
  subnet,
  router,
  router_gateway,
  router_interface,
  server,
  volume,
  volume_attachment,
};

/// snake_case name, e.g. `router_interface`.
std::string to_string(resource_kind x);

/// Parses the snake_case name; `nullopt` otherwise.
std::optional<resource_kind> parse_resource_kind(std::string_view text);

/// One VM of a deployment.
struct vm_record {
  /// Nova server id.
  std::string id;
  /// Cloud name, `<deployment>-<group>-<n>`.
  std::string name;
  std::string group;
  /// 1-based position inside the group.
  int index = 0;
  /// Nova status as last seen (`BUILD`, `ACTIVE`, ...).
  std::string status;
  std::string flavor;
  std::string image;
  std::vector<std::string> addresses;
  std::vector<std::string> volume_ids;

  friend bool operator==(const vm_record&, const vm_record&) = default;
};

/// One block-storage volume of a deployment.
struct volume_record {
  /// Cinder volume id.
  std::string id;
  /// Cloud name, `<deployment>-<group>-<n>-vol<k>`.
  std::string name;
  /// Cloud name of the VM it belongs to.
  std::string vm;
  int size_gb = 0;
  /// Cinder status as last seen (`creating`, `available`, `in-use`, ...).
  std::string status;
  bool attached = false;

  friend bool operator==(const volume_record&, const volume_record&) = default;
};

/// Every cloud resource a deployment holds, as recorded.
struct deployment_resources {
  std::string network_id;
  /// Subnet name (as in the template) -> subnet id.
  std::map<std::string, std::string> subnet_ids;
  std::string router_id;
  bool router_gateway = false;
  /// Subnet names the router has an interface on, in the order they were added.
  std::vector<std::string> router_interfaces;
  std::vector<vm_record> vms;
  std::vector<volume_record> volumes;

  friend bool operator==(const deployment_resources&, const deployment_resources&) = default;
};

/// Why an operation failed, as shown in `operation.error`.
struct operation_error {
  /// Stable snake_case code.
  std::string code;
  std::string message;
  /// Cloud name of the resource the failed step worked on; empty if none.
  std::string resource;

  friend bool operator==(const operation_error&, const operation_error&) = default;
};

/// The last operation started on a deployment.
struct operation_record {
  operation_type type = operation_type::deploy;
  operation_status status = operation_status::running;
  timestamp started_at;
  std::optional<timestamp> finished_at;
  std::optional<operation_error> error;

  friend bool operator==(const operation_record&, const operation_record&) = default;
};

/// A create committed before its cloud call whose result is not recorded yet (DESIGN.md,
/// "Intent before effect"). A restarted deployment looks each one up by tag.
struct open_intent {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  std::string cloud_name;
  std::vector<std::string> tags;

  friend bool operator==(const open_intent&, const open_intent&) = default;
};

/// A parameter override value: counts are integers, flavors and images strings.
using parameter_value = std::variant<int64_t, std::string>;

/// Parameter name -> value, e.g. `web_count` -> 2.
using deployment_parameters = std::map<std::string, parameter_value>;

/// The whole state of one deployment: what the `deployments` row and a snapshot hold.
struct deployment_record {
  uuid id;
  std::string name;
  deployment_status status = deployment_status::pending;
  /// The resolved template with the parameters applied.
  template_spec spec;
  std::optional<uuid> template_id;
  deployment_parameters parameters;
  std::string cloud_region;
  deployment_resources resources;
  std::optional<operation_record> operation;
  std::vector<open_intent> intents;
  /// Lease epoch of the owner that last wrote the deployment.
  int64_t epoch = 0;
  timestamp created_at;
  timestamp updated_at;
  std::optional<timestamp> deleted_at;
  /// Counts the accepted changes of `spec` (`desired_changed`); 0 for the spec it was created
  /// with.
  int64_t generation = 0;
  /// Group -> the highest VM index the deployment ever used in it (an intent counts). VM
  /// indexes are never reused, so `vm:<group>-<n>` names one server for the deployment's life.
  std::map<std::string, int> vm_high_water;
  /// Seq of the newest stored event: the state version (`ETag`). Set by the store and the
  /// fold; not part of `==`, since a snapshot does not know the events after it.
  int64_t last_seq = 0;
};

/// Field-wise equality, the template included.
bool operator==(const deployment_record& x, const deployment_record& y);

/// Field-wise equality of two templates (`template_spec` itself has no `==`).
bool is_same_template(const template_spec& x, const template_spec& y);

// -- parameters -----------------------------------------------------------------------------

/// Applies `<group>_count`, `<group>_flavor` and `<group>_image` overrides to `base`. Every
/// unknown name or mistyped value (count not an integer in 0..1000 or below `min_count`,
/// flavor or image not a non-empty string of at most 255 characters) is reported as
/// `parameters.<name>`. The resolved template must then fit `limits` (reported as
/// `template.vm_config`), since parameters can multiply the VMs of a template that fit.
std::variant<template_spec, std::vector<field_error>>
apply_parameters(const template_spec& base, const deployment_parameters& params,
                 const template_limits& limits);

// -- naming ---------------------------------------------------------------------------------

/// Cloud name of the network: `<deployment>-net`.
std::string network_name(std::string_view deployment);

/// Cloud name of a subnet: `<deployment>-<subnet>`.
std::string subnet_name(std::string_view deployment, std::string_view subnet);

/// Cloud name of the router: `<deployment>-router`.
std::string router_name(std::string_view deployment);

/// Cloud name of the `index`-th (1-based) VM of `group`: `<deployment>-<group>-<index>`.
std::string vm_name(std::string_view deployment, std::string_view group, int index);

/// Cloud name of the `k`-th (1-based) volume of a VM: `<vm name>-vol<k>`.
std::string volume_name(std::string_view vm_cloud_name, int k);

/// Logical name of a resource inside its deployment, stable across renames of the deployment:
/// `network`, `router`, `router-gateway`, `subnet:<subnet>`, `router-interface:<subnet>`,
/// `vm:<group>-<n>`, `volume:<group>-<n>-vol<k>`, `attachment:<group>-<n>-vol<k>`.
std::string logical_name(resource_kind kind, std::string_view suffix = {});

/// Tag (Neutron, Nova) or metadata key=value (Cinder) marking the owning deployment.
inline constexpr std::string_view deployment_tag_key = "orch-deployment";

/// Tag or metadata key=value naming the logical resource.
inline constexpr std::string_view resource_tag_key = "orch-resource";

/// Tag or metadata key=value naming the orchestrator installation that made the resource, so
/// that two installations sharing a project never take each other's resources for orphans.
inline constexpr std::string_view installation_tag_key = "orch-installation";

/// `orch-deployment=<id>` and `orch-resource=<logical>`, and `orch-installation=<id>` unless
/// `installation` is empty. The first two identify a resource (lookups by tag use only them,
/// so resources made before installation ids existed are still found); the third is set on
/// creates.
std::vector<std::string> ownership_tags(const uuid& deployment, std::string_view logical,
                                        std::string_view installation = {});

/// The same marks as a metadata map, for Nova metadata and Cinder (which has no tags).
std::map<std::string, std::string> ownership_metadata(const uuid& deployment,
                                                      std::string_view logical,
                                                      std::string_view installation = {});

/// The marks of `tags` that identify a resource (`orch-deployment`, `orch-resource`), without
/// the installation mark: what a lookup by tag filters on.
std::vector<std::string> identity_tags(const std::vector<std::string>& tags);

/// `identity_tags` for metadata.
std::map<std::string, std::string>
identity_metadata(const std::map<std::string, std::string>& metadata);

/// Splits a VM's logical suffix `<group>-<n>` into group and index; `nullopt` if it has no
/// positive index after its last `-`.
std::optional<std::pair<std::string, int>> parse_vm_suffix(std::string_view suffix);

/// Splits a volume's logical suffix `<group>-<n>-vol<k>` into the VM's suffix and `k`;
/// `nullopt` if it does not end in `-vol<k>`.
std::optional<std::pair<std::string, int>> parse_volume_suffix(std::string_view suffix);

// -- planning -------------------------------------------------------------------------------

/// What a planned change does.
enum class change_action : uint8_t { create, remove, resize, rebuild };

/// API name: `create`, `delete`, `resize`, `rebuild`.
std::string to_string(change_action x);

/// One step that makes the recorded resources of a deployment match its desired spec.
struct planned_change {
  change_action action = change_action::create;
  /// `server` or `volume`.
  resource_kind kind = resource_kind::server;
  std::string logical_name;
  std::string cloud_name;
  std::string group;
  /// The VM's 1-based index in its group.
  int index = 0;
  /// Volumes: 1-based position among the VM's volumes; 0 for servers.
  int k = 0;
  /// Resize: old and new flavor; rebuild: old and new image; empty otherwise.
  std::string from;
  std::string to;

  friend bool operator==(const planned_change&, const planned_change&) = default;
};

/// One VM the desired spec asks for.
struct desired_vm {
  std::string group;
  int index = 0;

  friend bool operator==(const desired_vm&, const desired_vm&) = default;
};

/// The VMs `rec.spec` asks for, group by group in template order: the VMs the deployment has
/// (recorded, or with an open create intent) with the lowest indexes first, then new ones
/// numbered past the group's high-water mark. Scale-in thus drops the highest indexes, and a
/// new VM never takes the name of an old one. Nothing while DELETING or DELETED.
std::vector<desired_vm> desired_vms(const deployment_record& rec);

/// What makes `rec.resources` match `rec.spec`, in dependency order: deletes of the volumes,
/// then of the servers no longer desired (highest index first), creates of the servers, then
/// of the volumes missing, then resizes (flavor) and rebuilds (image) of the servers kept. A server
/// or volume with an open create intent counts as missing: its create is looked up first.
/// Used by the deployment machine and by `PATCH ?dry_run=true`, so both show the same plan.
std::vector<planned_change> plan_changes(const deployment_record& rec);

/// The subnet a VM group is placed on: the subnet of its own name, else the first one; empty
/// if the template has no subnet.
std::string subnet_of_group(const template_spec& spec, std::string_view group);

} // namespace orch
