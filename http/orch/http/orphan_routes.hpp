#pragma once

#include <string>
#include <vector>

#include "orch/actors/orphan_finder.hpp"
#include "orch/http/gateway.hpp"

namespace orch::http {

/// The JSON of `GET /orphans`: `{"items":[{"kind","id","name","deployment_id","reason"}],
/// "total"}`.
std::string orphans_json(const std::vector<actors::orphan>& items);

/// Adds the orphan routes of API.md ("Orphans") to `gw`; `finder` must outlive the gateway's
/// server:
/// - `GET /orphans` → 200 `{"items","total"}`, each item `{"kind","id","name","deployment_id",
///   "reason"}` with `reason` `deployment_deleted` or `deployment_unknown`.
/// - `POST /orphans/cleanup` → 202 `{"status":"accepted","count"}` once the orphans are known;
///   their deletion then runs in the background.
/// An unreachable cloud or database answers 503 with `Retry-After`.
void add_orphan_routes(gateway& gw, actors::orphan_finder& finder);

} // namespace orch::http
