#pragma once

// A scripted cloud for `deployment_fsm`: answers every command the machine emits, in order, and
// can fail the n-th answer, so a loop over n reaches every failure point.

#include <deque>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "orch/deployment/deployment_fsm.hpp"
#include "orch/errc.hpp"

namespace orch {

inline std::ostream& boost_test_print_type(std::ostream& out, deployment_status x) {
  return out << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& out, operation_status x) {
  return out << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& out, intent_action x) {
  return out << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& out, resource_kind x) {
  return out << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& out, operation_type x) {
  return out << to_string(x);
}

} // namespace orch

namespace orch::testing {

/// A `resource_created` with only kind, names and id set.
inline resource_created made(resource_kind kind, std::string logical, std::string cloud_name,
                             std::string id) {
  resource_created ev;
  ev.kind = kind;
  ev.logical_name = std::move(logical);
  ev.cloud_name = std::move(cloud_name);
  ev.id = std::move(id);
  return ev;
}

/// The 3-tier example template of API.md.
inline template_spec three_tier() {
  template_spec spec;
  spec.name = "web-app-stack";
  spec.description = "3-tier web application";
  spec.vm_config = {
    {"web", {"m1.small", "ubuntu-22.04", 2, std::nullopt, {}}},
    {"app", {"m1.medium", "ubuntu-22.04", 3, 1, {volume_spec{20, ""}}}},
    {"db", {"m1.large", "ubuntu-22.04", 1, std::nullopt, {}}},
  };
  spec.network_config.cidr = "10.0.0.0/16";
  spec.network_config.subnets
    = {{"web", "10.0.1.0/24"}, {"app", "10.0.2.0/24"}, {"db", "10.0.3.0/24"}};
  spec.network_config.router = true;
  spec.network_config.external_network = "public";
  return spec;
}

/// A PENDING deployment `my-app` of `spec`.
inline deployment_record pending_record(template_spec spec = three_tier()) {
  deployment_record rec;
  rec.id = *uuid::parse("6f1c2a3b-0000-4000-8000-000000000001");
  rec.name = "my-app";
  rec.spec = std::move(spec);
  rec.cloud_region = "RegionOne";
  rec.created_at = timestamp{std::chrono::seconds{1'700'000'000}};
  rec.updated_at = rec.created_at;
  return rec;
}

/// Time of the n-th input.
inline timestamp tick(int n) {
  return timestamp{std::chrono::seconds{1'700'000'000 + n}};
}

/// The cloud id a create of `logical` gets.
inline std::string cloud_id(const std::string& logical) {
  return "id-" + logical;
}

inline bool is_record(const deployment_command& cmd) {
  return std::holds_alternative<record_event>(cmd);
}

/// The event of a `record_event`, or null.
template <class T>
const T* recorded(const deployment_command& cmd) {
  auto rec = std::get_if<record_event>(&cmd);
  return rec == nullptr ? nullptr : std::get_if<T>(&rec->event.data);
}

/// Whether `cmd` creates a named, tagged resource (and so needs an intent first).
inline bool is_tagged_create(const deployment_command& cmd) {
  return std::holds_alternative<create_network>(cmd) || std::holds_alternative<create_subnet>(cmd)
         || std::holds_alternative<create_router>(cmd) || std::holds_alternative<create_server>(cmd)
         || std::holds_alternative<create_volume>(cmd);
}

inline resource_kind kind_of_create(const deployment_command& cmd) {
  if (std::holds_alternative<create_network>(cmd)) return resource_kind::network;
  if (std::holds_alternative<create_subnet>(cmd)) return resource_kind::subnet;
  if (std::holds_alternative<create_router>(cmd)) return resource_kind::router;
  if (std::holds_alternative<set_router_gateway>(cmd)) return resource_kind::router_gateway;
  if (std::holds_alternative<add_router_interface>(cmd)) return resource_kind::router_interface;
  if (std::holds_alternative<create_server>(cmd)) return resource_kind::server;
  if (std::holds_alternative<create_volume>(cmd)) return resource_kind::volume;
  return resource_kind::volume_attachment;
}

/// Drives a machine with a cloud that answers each command in FIFO order.
class fsm_driver {
public:
  explicit fsm_driver(deployment_record rec) : uut(std::move(rec)), initial(uut.state()) {
    // nop
  }

  /// Applies `ev`, which must succeed, and queues its commands.
  void feed(const input_event& ev) {
    auto cmds = uut.apply(ev);
    if (!cmds) BOOST_FAIL("apply failed: " << error_detail(cmds.error()));
    check_intents_first(*cmds);
    for (auto& cmd : *cmds) {
      if (auto rec = std::get_if<record_event>(&cmd))
        events.push_back(rec->event);
      else
        queue.push_back(cmd);
      log.push_back(cmd);
    }
  }

  /// Answers queued commands until none is left or `max_answers` were given; the answer with
  /// number `fail_at` (0-based, counting all answers of this driver) is a failure.
  void run(int max_answers = 1'000'000) {
    for (int i = 0; i < max_answers && !queue.empty(); ++i) {
      auto cmd = queue.front();
      queue.pop_front();
      feed(answer(cmd));
    }
  }

  /// The answer of the cloud to `cmd`.
  input_event answer(const deployment_command& cmd) {
    auto n = answers++;
    auto at = tick(n + 1);
    auto logical = logical_name_of(cmd);
    auto kind = kind_for(cmd);
    if (fail_at && *fail_at == n)
      return step_failed{kind, logical, "quota_exceeded", "no room for " + logical, at};
    if (auto find = std::get_if<find_by_tag>(&cmd)) {
      if (missing.count(logical) > 0) return lookup_result{find->kind, logical, std::nullopt, at};
      return lookup_result{find->kind, logical, cloud_id(logical), at};
    }
    if (std::holds_alternative<wait_server_active>(cmd))
      return ready_result{resource_kind::server, logical, "ACTIVE", {"10.0.1.10"}, at};
    // A resize lands in VERIFY_RESIZE; a confirm, revert or rebuild in ACTIVE.
    if (std::holds_alternative<resize_server>(cmd))
      return change_result{logical, "VERIFY_RESIZE", true, {"10.0.1.10"}, {}, {}, at};
    if (std::holds_alternative<confirm_resize>(cmd) || std::holds_alternative<revert_resize>(cmd)
        || std::holds_alternative<rebuild_server>(cmd))
      return change_result{logical, "ACTIVE", true, {"10.0.1.10"}, {}, {}, at};
    if (std::holds_alternative<wait_volume_available>(cmd))
      return ready_result{resource_kind::volume, logical, "available", {}, at};
    if (std::holds_alternative<detach_volume>(cmd) || std::holds_alternative<delete_resource>(cmd)
        || std::holds_alternative<remove_router_interface>(cmd)
        || std::holds_alternative<clear_router_gateway>(cmd))
      return gone_result{kind, logical, at};
    ++creates[logical];
    return create_result{kind, logical, cloud_id(logical), at};
  }

  static resource_kind kind_for(const deployment_command& cmd) {
    if (auto x = std::get_if<find_by_tag>(&cmd)) return x->kind;
    if (auto x = std::get_if<delete_resource>(&cmd)) return x->kind;
    if (std::holds_alternative<wait_server_active>(cmd)
        || std::holds_alternative<resize_server>(cmd) || std::holds_alternative<confirm_resize>(cmd)
        || std::holds_alternative<revert_resize>(cmd)
        || std::holds_alternative<rebuild_server>(cmd))
      return resource_kind::server;
    if (std::holds_alternative<wait_volume_available>(cmd)) return resource_kind::volume;
    if (std::holds_alternative<detach_volume>(cmd)) return resource_kind::volume_attachment;
    if (std::holds_alternative<remove_router_interface>(cmd))
      return resource_kind::router_interface;
    if (std::holds_alternative<clear_router_gateway>(cmd)) return resource_kind::router_gateway;
    return kind_of_create(cmd);
  }

  /// Every create of a tagged resource must come after an intent for it: one earlier in the
  /// same answer, or one still open in the state from an earlier answer.
  void check_intents_first(const std::vector<deployment_command>& cmds) {
    std::set<std::string> announced;
    for (const auto& cmd : cmds) {
      if (auto intent = recorded<intent_recorded>(cmd))
        announced.insert(intent->logical_name);
      else if (is_tagged_create(cmd))
        BOOST_CHECK_MESSAGE(announced.count(logical_name_of(cmd)) > 0
                              || find_intent(uut.state(), kind_of_create(cmd), logical_name_of(cmd))
                                   != nullptr,
                            "create without intent: " << logical_name_of(cmd));
    }
  }

  deployment_fsm uut;
  /// The state the machine started from.
  deployment_record initial;
  /// Every event recorded, in order.
  std::vector<deployment_event> events;
  /// Every command emitted, in order.
  std::vector<deployment_command> log;
  std::deque<deployment_command> queue;
  /// Logical names whose lookup finds nothing.
  std::set<std::string> missing;
  /// Creates answered per logical name.
  std::map<std::string, int> creates;
  std::optional<int> fail_at;
  int answers = 0;
};

} // namespace orch::testing
