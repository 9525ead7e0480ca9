#pragma once

// Runs the real `openstack-sim` binary on a free port and drives an `openstack::client` over
// the Beast `client_transport` on the test thread's io_context.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "orch/http/client_transport.hpp"
#include "orch/openstack/client.hpp"
#include "orch/testing/child_process.hpp"

namespace orch::openstack::testing {

/// The simulator as a child process.
class sim_process {
public:
  /// Starts `openstack-sim --port 0` plus `flags` and waits for its base URL.
  explicit sim_process(std::vector<std::string> flags = {});

  /// `http://127.0.0.1:<port>`.
  const std::string& base_url() const { return base_url_; }

  uint16_t port() const { return port_; }

  /// `OS_AUTH_URL` of the simulator.
  std::string auth_url() const { return base_url_ + "/identity/v3"; }

  /// Sends a control call (`/_sim/...`) and returns the status and body.
  std::pair<int, std::string> control(const std::string& method, const std::string& target,
                                      const std::string& body = {});

  /// Adds a fault rule (JSON object text); returns its id.
  std::string add_fault(const std::string& rule);

  void clear_faults();

  /// How often the simulator saw `method` on the route pattern `route` since the last reset.
  int64_t calls(const std::string& method, const std::string& route);

  void reset_calls();

  /// `GET /_sim/state`, parsed.
  rapidjson::Document state();

private:
  std::string log_path_;
  std::unique_ptr<orch::testing::child_process> proc_;
  std::string base_url_;
  uint16_t port_ = 0;
};

/// Counts what the client reports.
struct recording_observer : client_observer {
  void on_call(const call_report& r) override { calls.push_back(r); }

  void on_retry(service, const os_error& err, std::chrono::milliseconds delay) override {
    retries.emplace_back(err, delay);
  }

  void on_breaker_change(service svc, breaker_state st) override {
    breaker_changes.emplace_back(svc, st);
  }

  void on_authenticated(bool after_401) override { auths.push_back(after_401); }

  std::vector<call_report> calls;
  std::vector<std::pair<os_error, std::chrono::milliseconds>> retries;
  std::vector<std::pair<service, breaker_state>> breaker_changes;
  std::vector<bool> auths;
};

/// A client of `sim` over a real transport, driven by `run_until` on the test thread.
struct client_env {
  explicit client_env(const sim_process& sim, client_config cfg = {},
                      orch::http::client_transport_config tcfg = {});

  /// Client settings for the simulator's default user.
  static client_config default_config(const sim_process& sim);

  /// Runs the io_context until `done()` or `timeout`; false on timeout.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds{60});

  /// Starts an operation and runs until its callback; fails the test on timeout.
  template <class T>
  result<T> await(const std::function<void(callback<T>)>& start,
                  std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
    std::optional<result<T>> out;
    start([&out](result<T> r) { out.emplace(std::move(r)); });
    BOOST_REQUIRE_MESSAGE(run_until([&] { return out.has_value(); }, timeout),
                          "operation did not finish in time");
    return std::move(*out);
  }

  boost::asio::io_context ioc;
  std::unique_ptr<orch::http::client_transport> transport;
  recording_observer observer;
  std::optional<client> os;
};

/// An `m1.tiny` server without networks booting `image_id`.
server_spec tiny_server(const std::string& name, const std::string& image_id);

} // namespace orch::openstack::testing
