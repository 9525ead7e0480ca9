#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "orch/deployment/events.hpp"
#include "orch/deployment/model.hpp"
#include "orch/persistence/template_repository.hpp"
#include "orch/uuid.hpp"

namespace orch::persistence {

/// How long an idempotency key answers with its first response (API.md: 24 h).
inline constexpr std::chrono::hours idempotency_ttl{24};

/// The `Idempotency-Key` of a create request and the answer to remember for it.
struct idempotency_claim {
  std::string key;
  /// Hash of the API key that sent the request, so two callers' keys never collide.
  std::string owner;
  /// Hash of the request body: the same key with another body is a conflict.
  std::string request_hash;
  /// The answer to replay (e.g. 202 and `{"id", "name", "status"}`). A replay returns equal
  /// JSON, not necessarily the same text: PostgreSQL's jsonb normalizes spacing and key order.
  int response_status = 202;
  std::string response_body;
};

/// What `create` did.
struct create_outcome {
  uuid deployment_id;
  int response_status = 202;
  std::string response_body;
  /// `true`: an earlier request with the same key created the deployment and this one created
  /// nothing; the response is that request's.
  bool replayed = false;
};

/// Filters and paging of `list` (API.md, `GET /deployments`).
struct deployment_filter {
  std::optional<deployment_status> status;
  /// Names starting with this text (taken literally: `%` and `_` match themselves).
  std::string name_prefix;
  bool include_deleted = false;
  /// 1..500.
  int limit = 50;
  /// >= 0; ignored when `after` is set.
  int offset = 0;
  /// Keyset pagination: only deployments listed after this one (older, or as old with a
  /// smaller id). `errc::not_found` if it does not exist.
  std::optional<uuid> after;
};

/// What a deployment actor writes after one step of its state machine.
struct event_batch {
  /// The new events in order; their `seq` is assigned by the store.
  std::vector<deployment_event> events;
  /// The state after the events: its status, resources, operation, template (the desired
  /// spec), parameters, `updated_at` and `deleted_at` go to the `deployments` row.
  deployment_record state;
  /// Also store `state` as the deployment's snapshot (at the last new seq).
  bool snapshot = false;
  /// The seq of the newest stored event the batch follows. When set, the append happens only
  /// if the deployment's log ends there; a log that already ends at `after_seq +
  /// events.size()` means an earlier attempt of this very batch was stored (its answer was
  /// lost), so its last seq is returned and nothing is written again. Any other end of the log
  /// is `errc::conflict`.
  std::optional<int64_t> after_seq;
};

/// What a restarting actor reads: the latest snapshot and the events after it.
struct stored_history {
  deployment_record snapshot;
  /// Seq the snapshot includes; 0 for the record as created.
  int64_t snapshot_seq = 0;
  std::vector<deployment_event> tail;
  /// The deployment's current lease epoch.
  int64_t epoch = 0;
};

/// What the fleet of deployments looks like now: what a node's gauges show.
struct fleet_summary {
  /// Deployments per status; every status is present, zero included.
  std::map<deployment_status, int64_t> by_status;
  /// The least recent `updated_at` among busy deployments (PENDING, IN_PROGRESS, UPDATING,
  /// CONFIGURING, SCALING, DELETING): how long the stillest of them has gone without an event.
  /// `nullopt` when none is busy.
  std::optional<timestamp> stillest_busy_update;
};

/// Who takes a deployment's lease and for how long (the cluster: DESIGN.md, "Cluster").
struct lease_terms {
  /// The node taking it (`NODE_ID`). Not empty.
  std::string node_id;
  /// The lease runs out this long after the claim unless renewed.
  std::chrono::milliseconds duration{10'000};
};

/// What a successful `claim` got.
struct lease_grant {
  /// The new epoch: every writer holding an older one is fenced out.
  int64_t epoch = 0;
  /// The node whose expired lease this claim took over; empty when the lease was free or
  /// already the claimer's.
  std::string taken_from;
};

/// Stores deployments, their event logs and snapshots. Names are unique among deployments
/// that are not DELETED. Every write of an owner is fenced by its lease epoch. Every call may
/// fail with `errc::store_unavailable`.
class deployment_repository {
public:
  virtual ~deployment_repository() = default;

  /// Stores a new PENDING deployment (`rec.id` fresh, `rec.epoch` 0) and its first snapshot
  /// (seq 0). With `claim`: a live key of the same owner and request hash replays the first
  /// answer and creates nothing; with another hash it is `errc::conflict`; keys older than
  /// `idempotency_ttl` are forgotten. `errc::conflict` if a live deployment has the name.
  virtual caf::expected<create_outcome> create(const deployment_record& rec,
                                               const std::optional<idempotency_claim>& claim)
    = 0;

  /// The deployment as its row says (DELETED ones too; no open intents), with `last_seq` set;
  /// `errc::not_found`.
  virtual caf::expected<deployment_record> get(const uuid& id) = 0;

  /// What `get(id)` would return if the repository holds a fresh copy in memory, else null.
  /// Never blocks on I/O, so an HTTP I/O thread may call it. The default holds nothing.
  virtual std::shared_ptr<const deployment_record> cached(const uuid&) { return nullptr; }

  /// Deployments newest first (`created_at`, then id, descending); `total` counts every match
  /// regardless of paging. `errc::invalid_spec` for a bad limit or offset.
  virtual caf::expected<page<deployment_record>> list(const deployment_filter& filter) = 0;

  /// Appends `batch.events` with the next gapless seqs, updates the row and optionally the
  /// snapshot, all in one transaction, if the row's epoch is still `epoch`; else
  /// `errc::conflict` and nothing is written (fencing). With `batch.after_seq` the append is
  /// idempotent (see there). Returns the last seq; `errc::not_found`.
  virtual caf::expected<int64_t> append_events(const uuid& id, int64_t epoch,
                                               const event_batch& batch)
    = 0;

  /// The latest snapshot and the events after it; `errc::not_found`.
  virtual caf::expected<stored_history> load(const uuid& id) = 0;

  /// Up to `limit` events with seq > `after_seq`, oldest first, for history and SSE;
  /// `errc::not_found` if the deployment does not exist.
  virtual caf::expected<std::vector<deployment_event>> events(const uuid& id, int64_t after_seq,
                                                              int limit)
    = 0;

  /// Ids of deployments whose operation node `node_id` may resume or start (PENDING,
  /// IN_PROGRESS, UPDATING, CONFIGURING, SCALING, DELETING) because their lease is free,
  /// `node_id`'s own or expired, oldest first.
  virtual caf::expected<std::vector<uuid>> list_unfinished(const std::string& node_id) = 0;

  /// Takes ownership if the lease is free, already `lease.node_id`'s, or expired (never from a
  /// live lease of another node): bumps the epoch, which fences out every writer holding an
  /// older one, and leases the deployment to `lease.node_id` for `lease.duration`.
  /// `errc::conflict` when another node holds a live lease; `errc::not_found`.
  virtual caf::expected<lease_grant> claim(const uuid& id, const lease_terms& lease) = 0;

  /// Counts per status and the stillest busy deployment, read in one snapshot.
  virtual caf::expected<fleet_summary> summary() = 0;
};

} // namespace orch::persistence
