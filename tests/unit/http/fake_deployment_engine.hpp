#pragma once

#include <mutex>
#include <vector>

#include <caf/error.hpp>

#include "orch/actors/deployment_engine.hpp"
#include "orch/errc.hpp"
#include "orch/persistence/deployment_repository.hpp"

namespace orch::testing {

/// A `deployment_engine` that records its calls. `remove` answers at once, as the real engine
/// does after recording DELETING: `not_found` for an unknown or DELETED deployment, else the
/// record moved to DELETING in `repo` (via `append_events` with the record's epoch). `fail_with`
/// makes `remove` answer that error instead.
class fake_deployment_engine : public actors::deployment_engine {
public:
  explicit fake_deployment_engine(persistence::deployment_repository& repo) : repo_(repo) {
    // nop
  }

  void start(const uuid& id) override {
    std::lock_guard guard{mtx_};
    started_.push_back(id);
  }

  void remove(const uuid& id, actors::engine_callback<deployment_record> done) override {
    caf::error failure;
    {
      std::lock_guard guard{mtx_};
      removed_.push_back(id);
      failure = fail_with_;
    }
    if (failure) return done(failure);
    auto rec = repo_.get(id);
    if (!rec) return done(rec.error());
    if (rec->status == deployment_status::deleted)
      return done(make_error(errc::not_found, "deployment is deleted"));
    persistence::event_batch batch;
    batch.events.push_back(
      {0, rec->updated_at, status_changed{rec->status, deployment_status::deleting}});
    rec->status = deployment_status::deleting;
    batch.state = *rec;
    if (auto seq = repo_.append_events(id, rec->epoch, batch); !seq) return done(seq.error());
    done(std::move(*rec));
  }

  /// Checks `change` as the real engine does (`not_found`, `conflict` while busy,
  /// `precondition_failed` for another version), then stores the new desired state and
  /// UPDATING or SCALING in `repo` and answers with the stored record.
  void update(const uuid& id, actors::deployment_change change,
              actors::engine_callback<deployment_record> done) override {
    {
      std::lock_guard guard{mtx_};
      changes_.push_back(change);
    }
    auto rec = repo_.get(id);
    if (!rec) return done(rec.error());
    if (rec->status == deployment_status::deleted)
      return done(make_error(errc::not_found, "deployment is deleted"));
    if (is_busy(rec->status))
      return done(make_error(errc::conflict, "deployment is " + to_string(rec->status)));
    if (change.if_match && *change.if_match != rec->last_seq)
      return done(make_error(errc::precondition_failed, "deployment moved on"));
    auto to = change.type == operation_type::scale ? deployment_status::scaling
                                                   : deployment_status::updating;
    persistence::event_batch batch;
    batch.events.push_back(
      {0, rec->updated_at, desired_changed{rec->generation + 1, change.parameters, change.spec}});
    batch.events.push_back({0, rec->updated_at, operation_started{change.type}});
    batch.events.push_back({0, rec->updated_at, status_changed{rec->status, to}});
    auto next = fold(*rec, batch.events);
    batch.state = next;
    auto seq = repo_.append_events(id, rec->epoch, batch);
    if (!seq) return done(seq.error());
    next.last_seq = *seq;
    done(std::move(next));
  }

  /// Changes passed to `update`, in order.
  std::vector<actors::deployment_change> changes() const {
    std::lock_guard guard{mtx_};
    return changes_;
  }

  /// Ids passed to `start`, in order.
  std::vector<uuid> started() const {
    std::lock_guard guard{mtx_};
    return started_;
  }

  /// Ids passed to `remove`, in order.
  std::vector<uuid> removed() const {
    std::lock_guard guard{mtx_};
    return removed_;
  }

  /// Makes `remove` answer `err` (until called with `caf::error{}`).
  void fail_with(caf::error err) {
    std::lock_guard guard{mtx_};
    fail_with_ = std::move(err);
  }

private:
  persistence::deployment_repository& repo_;
  mutable std::mutex mtx_;
  std::vector<uuid> started_;
  std::vector<uuid> removed_;
  std::vector<actors::deployment_change> changes_;
  caf::error fail_with_;
};

} // namespace orch::testing
