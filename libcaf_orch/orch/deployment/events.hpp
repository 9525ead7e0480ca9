#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orch/deployment/model.hpp"
#include "orch/time.hpp"

namespace orch {

/// Whether an intent announces a create, a delete, or a change of an existing server (resize to
/// another flavor, rebuild from another image).
enum class intent_action : uint8_t { create, remove, resize, rebuild };

/// `create`, `delete`, `resize` or `rebuild`.
std::string to_string(intent_action x);

/// Parses `create`, `delete`, `resize` or `rebuild`; `nullopt` otherwise.
std::optional<intent_action> parse_intent_action(std::string_view text);

/// The deployment moved from one status to another.
struct status_changed {
  deployment_status from = deployment_status::pending;
  deployment_status to = deployment_status::pending;

  friend bool operator==(const status_changed&, const status_changed&) = default;
};

/// An operation began; it replaces the previous `operation`.
struct operation_started {
  operation_type type = operation_type::deploy;

  friend bool operator==(const operation_started&, const operation_started&) = default;
};

/// The running operation ended.
struct operation_finished {
  operation_status status = operation_status::succeeded;
  std::optional<operation_error> error;

  friend bool operator==(const operation_finished&, const operation_finished&) = default;
};

/// Committed BEFORE the cloud call it announces (DESIGN.md, "Intent before effect"). A create
/// intent stays open until a `resource_created` or `resource_deleted` of the same resource. A
/// resize or rebuild intent sets the server's recorded status to `RESIZE` or `REBUILD`, which
/// stays until a `resource_changed` reports what Nova shows.
struct intent_recorded {
  intent_action action = intent_action::create;
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  std::string cloud_name;
  std::vector<std::string> tags;

  friend bool operator==(const intent_recorded&, const intent_recorded&) = default;
};

/// The cloud answered a create (or a link was made); carries what the record keeps about it.
struct resource_created {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  std::string cloud_name;
  /// Cloud id; for links the port or attachment id, possibly empty.
  std::string id;
  /// Servers: group, 1-based index, flavor and image. Volumes: `vm` (cloud name), size.
  std::string group;
  int index = 0;
  std::string flavor;
  std::string image;
  std::string vm;
  int size_gb = 0;
  /// Servers and volumes: cloud status right after the create (`BUILD`, `creating`).
  std::string status;

  friend bool operator==(const resource_created&, const resource_created&) = default;
};

/// A server became ACTIVE or a volume available.
struct resource_ready {
  resource_kind kind = resource_kind::server;
  std::string logical_name;
  std::string status;
  /// Servers: fixed and floating addresses.
  std::vector<std::string> addresses;

  friend bool operator==(const resource_ready&, const resource_ready&) = default;
};

/// A resize or rebuild of a server moved on: its status, flavor and image as Nova now shows
/// them (`VERIFY_RESIZE`, `REVERT_RESIZE` while reverting, `ACTIVE`, `ERROR`). The flavor
/// changes once the resize is confirmed; the image once the rebuild is ACTIVE.
struct resource_changed {
  resource_kind kind = resource_kind::server;
  std::string logical_name;
  std::string status;
  std::string flavor;
  std::string image;
  /// Fixed and floating addresses; empty keeps the recorded ones.
  std::vector<std::string> addresses;

  friend bool operator==(const resource_changed&, const resource_changed&) = default;
};

/// A resource is confirmed gone (a 404 counts), a link removed, or an open create intent was
/// found to have created nothing (`id` empty).
struct resource_deleted {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  std::string id;

  friend bool operator==(const resource_deleted&, const resource_deleted&) = default;
};

/// A transient cloud error that the actor retries.
struct retry_scheduled {
  std::string resource;
  int attempt = 1;
  std::string reason;
  int64_t delay_ms = 0;

  friend bool operator==(const retry_scheduled&, const retry_scheduled&) = default;
};

/// An error worth keeping in the audit trail (the failing step's error is in
/// `operation_finished` too).
struct error_reported {
  operation_error error;

  friend bool operator==(const error_reported&, const error_reported&) = default;
};

/// An update or scale was accepted: from now on the deployment is to match `spec`. Recorded
/// first in its operation (intent before effect) and carrying the whole resolved template, so
/// a replay needs nothing else.
struct desired_changed {
  int64_t generation = 0;
  deployment_parameters parameters;
  template_spec spec;

  friend bool operator==(const desired_changed& x, const desired_changed& y) {
    return x.generation == y.generation && x.parameters == y.parameters
           && is_same_template(x.spec, y.spec);
  }
};

/// What happened, one alternative per event type.
using event_data = std::variant<status_changed, operation_started, operation_finished,
                                intent_recorded, resource_created, resource_ready, resource_deleted,
                                retry_scheduled, error_reported, desired_changed, resource_changed>;

/// One entry of a deployment's append-only event log.
struct deployment_event {
  /// 1-based position in the deployment's log, gapless; 0 until stored.
  int64_t seq = 0;
  timestamp at;
  event_data data;

  friend bool operator==(const deployment_event&, const deployment_event&) = default;
};

/// The `type` of an event as stored and shown by `GET /deployments/{id}/events`:
/// `status_changed`, `operation_started`, `operation_finished`, `intent`, `resource_created`,
/// `resource_ready`, `resource_deleted`, `retry`, `error`, `desired_changed`,
/// `resource_changed`.
std::string event_type(const event_data& x);

/// The open create intent of `kind`/`logical` in `state`, or null.
const open_intent* find_intent(const deployment_record& state, resource_kind kind,
                               std::string_view logical);

/// Folds one event into `state`: the state of a deployment is the fold of its events over the
/// record it was created with. Pure and total: an event about a resource the state does not
/// know only closes intents. Sets `updated_at` to the event's time.
void apply(deployment_record& state, const deployment_event& ev);

/// Folds every event of `tail` into `base`, in order.
deployment_record fold(deployment_record base, const std::vector<deployment_event>& tail);

/// Whether a batch about to be stored should carry a snapshot (DESIGN.md): when it changes
/// the status, or when the events since the last snapshot, the batch included, reach `every`.
/// `events_since_snapshot` counts the stored events after the last snapshot.
bool needs_snapshot(const std::vector<deployment_event>& batch, int64_t events_since_snapshot,
                    int64_t every);

/// The part of a logical name after its kind's prefix (`subnet:web` -> `web`).
std::string_view logical_suffix(resource_kind kind, std::string_view logical);

} // namespace orch
