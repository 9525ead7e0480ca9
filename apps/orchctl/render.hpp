#pragma once

#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace orch::ctl {

/// Columns under a header line, each as wide as its widest cell.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

/// A `PATCH ?dry_run=true` answer printed like a plan: one line per change (`+ create`,
/// `- remove`, `~ resize`, `~ rebuild`), then a summary line. Pure.
std::string format_plan(const rapidjson::Value& dry_run);

/// One deployment (`GET /deployments/{id}`) as key/value lines and a table of its VMs.
std::string format_deployment(const rapidjson::Value& deployment);

/// A deployment list (`{"items": [...], "total"}`) as a table.
std::string format_deployment_list(const rapidjson::Value& page);

/// The orphans answer (`{"items": [...], "total"}`) as a table.
std::string format_orphans(const rapidjson::Value& orphans, bool cleanup);

/// `time` of an event as `HH:MM:SS` (the date is left out: a trail rarely spans a day).
std::string short_time(const std::string& rfc3339);

/// `rendered` of a JSON value: strings bare, everything else as compact JSON.
std::string scalar_text(const rapidjson::Value& x);

} // namespace orch::ctl
