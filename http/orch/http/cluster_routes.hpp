#pragma once

#include <functional>
#include <string>

#include <caf/expected.hpp>

#include "orch/http/blocking_pool.hpp"
#include "orch/http/gateway.hpp"

namespace orch::http {

/// Renders the cluster's membership as the JSON body of `GET /cluster`; blocks (it reads the
/// database). `apps/` points it at `orch::cluster::membership::describe`.
using cluster_describer = std::function<caf::expected<std::string>()>;

/// Adds `GET /cluster` (any key): the nodes, their state, heartbeat age, running deployments
/// and leases. `describe` runs on `blocking`; both must outlive the gateway's serving.
void add_cluster_routes(gateway& gw, blocking_pool& blocking, cluster_describer describe);

} // namespace orch::http
