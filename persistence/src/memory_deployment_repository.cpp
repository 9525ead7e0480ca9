#include "orch/persistence/memory_deployment_repository.hpp"

#include <algorithm>
#include <chrono>

#include "orch/errc.hpp"

namespace orch::persistence {

namespace {

caf::error unknown_deployment(const uuid& id) {
  return make_error(errc::not_found, "deployment " + to_string(id) + " not found");
}

// The `deployments` row keeps no intents.
deployment_record as_row(deployment_record rec) {
  rec.intents.clear();
  return rec;
}

bool matches(const deployment_record& rec, const deployment_filter& filter) {
  if (filter.status && rec.status != *filter.status) return false;
  if (!filter.include_deleted && rec.status == deployment_status::deleted) return false;
  return rec.name.compare(0, filter.name_prefix.size(), filter.name_prefix) == 0;
}

// Listing order: created_at, then id, both descending.
bool listed_before(const deployment_record& x, const deployment_record& y) {
  return std::tie(x.created_at, x.id) > std::tie(y.created_at, y.id);
}

} // namespace

memory_deployment_repository::memory_deployment_repository()
  : memory_deployment_repository([] {
      return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
    }) {
  // nop
}

memory_deployment_repository::memory_deployment_repository(clock_function clock)
  : clock_(std::move(clock)) {
  // nop
}

void memory_deployment_repository::set_failure(caf::error err) {
  std::lock_guard guard{mtx_};
  failure_ = std::move(err);
}

caf::expected<create_outcome>
memory_deployment_repository::create(const deployment_record& rec,
                                     const std::optional<idempotency_claim>& claim) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto now = clock_();
  if (claim) {
    auto i = keys_.find({claim->owner, claim->key});
    if (i != keys_.end() && i->second.expires_at <= now) {
      keys_.erase(i);
      i = keys_.end();
    }
    if (i != keys_.end()) {
      if (i->second.claim.request_hash != claim->request_hash)
        return make_error(errc::conflict, "idempotency key was used with a different request body");
      return create_outcome{i->second.deployment_id, i->second.claim.response_status,
                            i->second.claim.response_body, true};
    }
  }
  if (rows_.count(rec.id) > 0)
    return make_error(errc::conflict, "deployment " + to_string(rec.id) + " exists");
  for (const auto& [id, e] : rows_)
    if (e.row.name == rec.name && e.row.status != deployment_status::deleted)
      return make_error(errc::conflict, "deployment name '" + rec.name + "' is already taken");
  auto stored = rec;
  stored.epoch = 0;
  rows_.emplace(rec.id, entry{as_row(stored), stored, 0, {}, {}, {}});
  create_outcome out{rec.id, 202, {}, false};
  if (claim) {
    keys_.emplace(std::make_pair(claim->owner, claim->key),
                  key_entry{*claim, rec.id, now + idempotency_ttl});
    out.response_status = claim->response_status;
    out.response_body = claim->response_body;
  }
  return out;
}

caf::expected<deployment_record> memory_deployment_repository::get(const uuid& id) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto i = rows_.find(id);
  if (i == rows_.end()) return unknown_deployment(id);
  return i->second.row;
}

std::vector<const memory_deployment_repository::entry*>
memory_deployment_repository::newest_first() const {
  std::vector<const entry*> out;
  for (const auto& [id, e] : rows_) out.push_back(&e);
  std::sort(out.begin(), out.end(),
            [](const entry* x, const entry* y) { return listed_before(x->row, y->row); });
  return out;
}

caf::expected<page<deployment_record>>
memory_deployment_repository::list(const deployment_filter& filter) {
  if (filter.limit < 1 || filter.limit > 500)
    return make_error(errc::invalid_spec, "limit must be between 1 and 500");
  if (filter.offset < 0) return make_error(errc::invalid_spec, "offset must be >= 0");
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  const deployment_record* after = nullptr;
  if (filter.after) {
    auto i = rows_.find(*filter.after);
    if (i == rows_.end()) return unknown_deployment(*filter.after);
    after = &i->second.row;
  }
  page<deployment_record> out;
  out.limit = filter.limit;
  out.offset = filter.after ? 0 : filter.offset;
  int64_t skipped = 0;
  for (const auto* e : newest_first()) {
    if (!matches(e->row, filter)) continue;
    ++out.total;
    if (after != nullptr && !listed_before(*after, e->row)) continue;
    if (skipped++ < out.offset) continue;
    if (static_cast<int>(out.items.size()) < filter.limit) out.items.push_back(e->row);
  }
  return out;
}

caf::expected<int64_t> memory_deployment_repository::append_events(const uuid& id, int64_t epoch,
                                                                   const event_batch& batch) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto i = rows_.find(id);
  if (i == rows_.end()) return unknown_deployment(id);
  auto& e = i->second;
  if (e.row.epoch != epoch)
    return make_error(errc::conflict,
                      "stale epoch " + std::to_string(epoch) + " for deployment " + to_string(id));
  if (auto end = static_cast<int64_t>(e.log.size()); batch.after_seq && end != *batch.after_seq) {
    auto size = static_cast<int64_t>(batch.events.size());
    // Our own earlier attempt went through: only the owner of this epoch writes the log.
    if (size > 0 && end == *batch.after_seq + size) return end;
    return make_error(errc::conflict, "the log of deployment " + to_string(id) + " ends at seq "
                                        + std::to_string(end) + ", not "
                                        + std::to_string(*batch.after_seq));
  }
  for (auto ev : batch.events) {
    ev.seq = static_cast<int64_t>(e.log.size()) + 1;
    e.log.push_back(std::move(ev));
  }
  auto& row = e.row;
  row.status = batch.state.status;
  row.resources = batch.state.resources;
  row.operation = batch.state.operation;
  row.updated_at = batch.state.updated_at;
  row.deleted_at = batch.state.deleted_at;
  row.spec = batch.state.spec;
  row.parameters = batch.state.parameters;
  auto last = static_cast<int64_t>(e.log.size());
  row.last_seq = last;
  if (batch.snapshot) {
    e.snapshot = batch.state;
    e.snapshot.epoch = epoch;
    e.snapshot_seq = last;
  }
  return last;
}

caf::expected<stored_history> memory_deployment_repository::load(const uuid& id) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto i = rows_.find(id);
  if (i == rows_.end()) return unknown_deployment(id);
  const auto& e = i->second;
  stored_history out{e.snapshot, e.snapshot_seq, {}, e.row.epoch};
  out.tail.assign(e.log.begin() + e.snapshot_seq, e.log.end());
  return out;
}

caf::expected<std::vector<deployment_event>>
memory_deployment_repository::events(const uuid& id, int64_t after_seq, int limit) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto i = rows_.find(id);
  if (i == rows_.end()) return unknown_deployment(id);
  std::vector<deployment_event> out;
  for (const auto& ev : i->second.log)
    if (ev.seq > after_seq && static_cast<int>(out.size()) < limit) out.push_back(ev);
  return out;
}

bool memory_deployment_repository::claimable(const entry& e, const std::string& node_id) const {
  return e.lease_owner.empty() || e.lease_owner == node_id || e.lease_expires_at < clock_();
}

caf::expected<std::vector<uuid>>
memory_deployment_repository::list_unfinished(const std::string& node_id) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto rows = newest_first();
  std::reverse(rows.begin(), rows.end());
  std::vector<uuid> out;
  for (const auto* e : rows)
    if (is_busy(e->row.status) && claimable(*e, node_id)) out.push_back(e->row.id);
  return out;
}

caf::expected<fleet_summary> memory_deployment_repository::summary() {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  fleet_summary out;
  for (auto s : all_deployment_statuses) out.by_status[s] = 0;
  for (const auto& [id, e] : rows_) {
    ++out.by_status[e.row.status];
    if (is_busy(e.row.status)
        && (!out.stillest_busy_update || e.row.updated_at < *out.stillest_busy_update))
      out.stillest_busy_update = e.row.updated_at;
  }
  return out;
}

caf::expected<lease_grant> memory_deployment_repository::claim(const uuid& id,
                                                               const lease_terms& lease) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto i = rows_.find(id);
  if (i == rows_.end()) return unknown_deployment(id);
  auto& e = i->second;
  if (!claimable(e, lease.node_id))
    return make_error(errc::conflict,
                      "deployment " + to_string(id) + " is leased by node " + e.lease_owner);
  lease_grant out;
  if (!e.lease_owner.empty() && e.lease_owner != lease.node_id) out.taken_from = e.lease_owner;
  e.lease_owner = lease.node_id;
  e.lease_expires_at = clock_() + std::chrono::duration_cast<timestamp::duration>(lease.duration);
  out.epoch = ++e.row.epoch;
  return out;
}

std::optional<std::pair<std::string, timestamp>>
memory_deployment_repository::lease_of(const uuid& id) const {
  std::lock_guard guard{mtx_};
  auto i = rows_.find(id);
  if (i == rows_.end() || i->second.lease_owner.empty()) return std::nullopt;
  return std::make_pair(i->second.lease_owner, i->second.lease_expires_at);
}

void memory_deployment_repository::release_leases(const std::string& node_id) {
  std::lock_guard guard{mtx_};
  for (auto& [id, e] : rows_)
    if (e.lease_owner == node_id) e.lease_owner.clear();
}

} // namespace orch::persistence
