#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "settings.hpp"
#include "sse_reader.hpp"

namespace orch::ctl {

/// An HTTP answer of the orchestrator, whatever its status.
struct api_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The value of header `name` (case-insensitive), or empty.
  std::string header(const std::string& name) const;
};

/// Why no answer came: connection refused, timeout, broken connection.
struct transport_problem {
  std::string detail;
};

/// How a stream ended.
enum class stream_end {
  /// `on_event` asked to stop.
  stopped,
  /// The server ended the stream (the deployment was deleted).
  closed,
};

/// The orchestrator's REST API over the project's Beast client (`orch::http::client_transport`)
/// for requests, and over a Beast stream for Server-Sent Events. Sends the key as `X-API-Key`;
/// never prints or logs it.
class api_client {
public:
  explicit api_client(settings cfg, std::string user_agent);

  /// Sends one request to `target` (path and query); `body`, when not empty, as JSON.
  std::variant<api_response, transport_problem>
  call(const std::string& method, const std::string& target, const std::string& body = {},
       std::vector<std::pair<std::string, std::string>> headers = {});

  /// Reads the event stream of `target` (`/deployments/{id}/events`) from after `after`,
  /// passing each event to `on_event` until it returns false or the server closes the stream.
  /// A dropped connection is opened again with `Last-Event-ID` set to the last event seen,
  /// so nothing is lost or repeated; so is a stream the server ends (a node shutting down)
  /// unless `is_final` says the end was due (the deployment is DELETED). `on_tick` runs about once
  /// a second meanwhile (progress redraws) and ends the stream (`stopped`) when it returns false.
  /// An error answer (401, 404, ...) ends the stream with that response.
  std::variant<stream_end, api_response, transport_problem>
  stream(const std::string& target, int64_t after,
         const std::function<bool(const sse_event&)>& on_event,
         const std::function<bool()>& on_tick, const std::function<bool()>& is_final);

  /// Times a dropped stream was opened again (reported in tests and debugging).
  int reconnects() const noexcept { return reconnects_; }

private:
  settings cfg_;
  std::string user_agent_;
  int reconnects_ = 0;
};

} // namespace orch::ctl
