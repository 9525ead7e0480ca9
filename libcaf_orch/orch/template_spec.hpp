#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "orch/time.hpp"
#include "orch/uuid.hpp"

namespace orch {

/// One block-storage volume attached to each VM of a group.
struct volume_spec {
  int size_gb = 0;
  /// Cinder volume type; empty means the cloud's default.
  std::string type;
};

/// A group of identical VMs.
struct vm_group_spec {
  std::string flavor;
  std::string image;
  int count = 0;
  /// Lowest count a scale-in may reach; absent means 0.
  std::optional<int> min_count;
  std::vector<volume_spec> volumes;
};

/// The network every VM of a deployment is attached to.
struct network_spec {
  std::string cidr;
  /// Subnet name -> CIDR, in document order: a VM group without a subnet of its own name is
  /// placed on the first one.
  std::vector<std::pair<std::string, std::string>> subnets;
  bool router = false;
  /// Name of the external network the router's gateway uses; empty means none.
  std::string external_network;
};

/// A reusable description of VM groups and a network (API.md, "Templates").
struct template_spec {
  std::string name;
  std::string description;
  /// Group name -> group, in document order.
  std::vector<std::pair<std::string, vm_group_spec>> vm_config;
  network_spec network_config;
};

/// A template as stored, with its identity and timestamps.
struct stored_template {
  uuid id;
  template_spec spec;
  timestamp created_at;
  timestamp updated_at;
};

/// One field that failed validation, as reported in a 422's `errors[]`.
struct field_error {
  /// Dotted path of the field, e.g. `vm_config.web.count` or `network_config.subnets.app`.
  std::string field;
  std::string message;

  friend bool operator==(const field_error&, const field_error&) = default;
};

} // namespace orch
