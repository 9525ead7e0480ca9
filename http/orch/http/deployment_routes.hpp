#pragma once

#include <string>
#include <vector>

#include "orch/actors/deployment_engine.hpp"
#include "orch/http/blocking_pool.hpp"
#include "orch/http/event_feed.hpp"
#include "orch/http/gateway.hpp"
#include "orch/persistence/deployment_repository.hpp"
#include "orch/persistence/template_repository.hpp"
#include "orch/template_validation.hpp"

namespace orch::http {

/// Settings of the deployment routes.
struct deployment_routes_config {
  /// The cloud regions a deployment may name (`OPENSTACK_REGION`); `cloud_region` outside this
  /// list is a 422.
  std::vector<std::string> regions{"RegionOne"};
  /// Size limits of a deployment's template once its parameters are applied.
  template_limits limits{};
};

/// What the deployment routes work with; everything must outlive the gateway's server.
struct deployment_routes_dependencies {
  persistence::deployment_repository& deployments;
  /// Resolves `template` names and ids of `POST /deployments`.
  persistence::template_repository& templates;
  /// Moves deployments forward (start, delete); reads never go through it.
  actors::deployment_engine& engine;
  /// Runs every repository call off the I/O threads.
  blocking_pool& blocking;
  /// Serves the event streams (`Accept: text/event-stream`).
  event_feed& events;
};

/// Adds the deployment routes of API.md ("Deployments") to `gw`:
/// - `POST /deployments` (optional `Idempotency-Key`) → 202 `{"id","name","status"}` with
///   `Location`, then `engine.start(id)`; 400 (bad body or key), 409 (name taken, key reused
///   with another body), 422 (`errors[]`: unknown template, parameter or region, or a resolved
///   template over `limits`). A replayed
///   key answers the first response again, with `Idempotent-Replayed: true`, creating nothing.
/// - `GET /deployments?status=&name=&limit=&offset=&include_deleted=&after=` → 200
///   `{"items","total","limit","offset"[,"next"]}`, newest first; 422 for a bad parameter.
/// - `GET /deployments/{id}` → 200; 404 (also for an id that is no UUID).
/// - `DELETE /deployments/{id}` → `engine.remove` → 202 `{"id","status"}`; 404 if unknown or
///   DELETED.
/// - `GET /deployments/{id}/events?after=&limit=` → 200, a JSON array oldest first; with
///   `Accept: text/event-stream` a live Server-Sent Events stream (`id:` seq, `event:` type,
///   `data:` the event) resuming after `Last-Event-ID`, served by `events` (see `event_feed`),
///   ending once the deployment is DELETED; 503 with `Retry-After` when `events` is full.
/// A database outage answers 503 with `Retry-After`.
void add_deployment_routes(gateway& gw, const deployment_routes_dependencies& deps,
                           deployment_routes_config cfg = {});

} // namespace orch::http
