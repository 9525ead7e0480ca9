#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crash_fixture.hpp"

namespace orch::testing::cluster {

/// Heartbeat and lease of the test nodes: short, so that takeovers fit the CI budget, with the
/// same ratio as the defaults (1 s, 10 s) would not leave the lease enough heartbeats.
inline constexpr const char* test_heartbeat = "200ms";
inline constexpr const char* test_lease = "3s";
inline constexpr std::chrono::milliseconds test_lease_ms{3'000};

/// One orchestrator node of the test cluster.
struct node {
  std::string id;
  uint16_t port = 0;
  std::unique_ptr<child_process> process;
};

/// A database and a simulator of their own (`crash_fixture`), and orchestrator nodes on them.
struct cluster_fixture {
  cluster_fixture(const std::string& template_json, std::string suite, int max_deployments);

  /// Starts node `id` (`NODE_ID`) without waiting for it; `extra` adds or overrides settings.
  node& launch(const std::string& id, std::map<std::string, std::string> extra = {});

  /// Waits until `n` listens.
  void await_listening(node& n) const;

  /// Points `fx.call` (and everything built on it) at node `n`.
  void talk_to(const node& n);

  /// Creates `name` of `crash-stack` through node `n`.
  void post_through(const node& n, const std::string& name);

  /// Counts the log lines of `n` that contain `needle`.
  static int count_in_log(const node& n, const std::string& needle);

  /// `GET /metrics` of node `n`: the value of the sample `series` (0 when absent).
  double metric(const node& n, const std::string& series) const;

  /// Runs `sql` on the test database and returns the first column of the first row.
  std::string query(const std::string& sql) const { return fx.db.query_value(sql); }

  crash::crash_fixture fx;
  std::vector<std::unique_ptr<node>> nodes;
};

} // namespace orch::testing::cluster
