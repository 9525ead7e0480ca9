#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "orch/persistence/deployment_repository.hpp"
#include "orch/time.hpp"

namespace orch::persistence {

/// A `deployment_repository` held in memory, with the semantics of the PostgreSQL one. Thread-
/// safe. Meant for unit tests of other modules and for the contract test.
class memory_deployment_repository : public deployment_repository {
public:
  /// Reads the current time; decides when idempotency keys expire.
  using clock_function = std::function<timestamp()>;

  /// Uses the system clock.
  memory_deployment_repository();

  /// Uses `clock` for idempotency key expiry.
  explicit memory_deployment_repository(clock_function clock);

  /// Makes every following call fail with `err` until called again with `caf::none`.
  void set_failure(caf::error err);

  caf::expected<create_outcome> create(const deployment_record& rec,
                                       const std::optional<idempotency_claim>& claim) override;

  caf::expected<deployment_record> get(const uuid& id) override;

  caf::expected<page<deployment_record>> list(const deployment_filter& filter) override;

  caf::expected<int64_t> append_events(const uuid& id, int64_t epoch,
                                       const event_batch& batch) override;

  caf::expected<stored_history> load(const uuid& id) override;

  caf::expected<std::vector<deployment_event>> events(const uuid& id, int64_t after_seq,
                                                      int limit) override;

  caf::expected<std::vector<uuid>> list_unfinished(const std::string& node_id) override;

  caf::expected<lease_grant> claim(const uuid& id, const lease_terms& lease) override;

  /// The node holding the deployment's lease and when it runs out, if any; for tests of the
  /// lease rules (the PostgreSQL leases are read by `orch_cluster`).
  std::optional<std::pair<std::string, timestamp>> lease_of(const uuid& id) const;

  /// Drops the lease as a node that leaves would (PostgreSQL: `orch_cluster`).
  void release_leases(const std::string& node_id);

  caf::expected<fleet_summary> summary() override;

private:
  struct entry {
    /// What the `deployments` row holds (no intents).
    deployment_record row;
    deployment_record snapshot;
    int64_t snapshot_seq = 0;
    std::vector<deployment_event> log;
    /// The lease: empty owner when free.
    std::string lease_owner;
    timestamp lease_expires_at{};
  };

  /// Whether `node_id` may claim `e` now. Requires `mtx_`.
  bool claimable(const entry& e, const std::string& node_id) const;

  struct key_entry {
    idempotency_claim claim;
    uuid deployment_id;
    timestamp expires_at;
  };

  /// Rows in listing order (newest first). Requires `mtx_`.
  std::vector<const entry*> newest_first() const;

  mutable std::mutex mtx_;
  clock_function clock_;
  caf::error failure_;
  std::map<uuid, entry> rows_;
  /// (owner, key) -> key.
  std::map<std::pair<std::string, std::string>, key_entry> keys_;
};

} // namespace orch::persistence
