#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orch/openstack/client.hpp"
#include "orch/openstack/errors.hpp"
#include "orch/openstack/http_transport.hpp"

namespace orch::openstack {

/// Tuning of a `status_poller`.
struct status_poller_config {
  /// Interval while watched resources change, and right after a new waiter registers.
  std::chrono::milliseconds fast_interval{500};
  /// Upper bound of the interval; reached by doubling after each tick without a change.
  std::chrono::milliseconds idle_interval{5'000};
  /// Subtracted from the newest `updated` seen when asking for `changes-since`, to cover
  /// Nova's one-second timestamps, updates committed out of order and clock offsets between
  /// us and the cloud.
  std::chrono::milliseconds changes_since_skew{2'000};
  /// When above 0, the interval never exceeds this fraction of the time since the youngest
  /// waiter registered (nor goes below `fast_interval`), so a wait ends at most that fraction
  /// (or `fast_interval`) after its resource got there: 0.05 notices a 2 s boot within 100 ms,
  /// where the doubling alone may notice it a whole interval late. It costs more ticks early in
  /// a wait, about `1 / max_lag_fraction` per tenfold of its age. 0 keeps the doubling alone.
  double max_lag_fraction = 0.0;
};

/// How a wait ended.
enum class wait_outcome {
  /// The resource reached one of the target statuses.
  reached,
  /// The resource went to an error status (`ERROR`, `error*`); see the fault.
  failed,
  /// The resource does not exist (any more): 404, `DELETED`, or missing from a full list.
  gone,
  /// The deadline passed first.
  timed_out,
};

/// Stable snake_case name of `x`.
std::string to_string(wait_outcome x);

/// The result a waiter receives.
struct wait_result {
  wait_outcome outcome = wait_outcome::timed_out;
  /// Server or volume id.
  std::string id;
  /// The last status seen, empty if none was seen.
  std::string status;
  /// Nova's `fault.code` of an ERROR server.
  std::optional<int> fault_code;
  /// Nova's `fault.message` of an ERROR server.
  std::string fault_message;
};

/// Identifies a registered waiter (for `cancel`).
using waiter_id = std::uint64_t;

/// Counters of what the poller sent.
struct status_poller_stats {
  /// Ticks that sent at least one request.
  std::size_t ticks = 0;
  /// `GET /servers/detail?changes-since=...` listings (each may span several pages).
  std::size_t server_lists = 0;
  /// `GET /volumes/detail` listings.
  std::size_t volume_lists = 0;
  /// `GET /servers/{id}` for waiters that no listing mentioned.
  std::size_t lookups = 0;
  /// Listings or lookups that failed (the poller keeps going).
  std::size_t failures = 0;
};

/// Waits for many servers and volumes of one cloud at once: one poller per cloud serves every
/// waiter on the node, so the cost per tick does not grow with the number of waiters.
///
/// Each tick sends ONE `GET /servers/detail?changes-since=<newest updated seen - skew>` (all
/// pages) while server waiters exist, and one `GET /volumes/detail` (all pages) while volume
/// waiters exist: Cinder has no `changes-since`, so the full listing also tells deletions by
/// absence. Deleted servers appear in Nova's `changes-since` answer as `DELETED`. A server
/// waiter that no listing mentioned since it registered (its server last changed long
/// before) is looked up once with `GET /servers/{id}`.
///
/// The interval is `fast_interval` while watched resources change and doubles up to
/// `idle_interval` when nothing changes (bounded by `max_lag_fraction` if set); a new waiter
/// resets it to fast. Deadlines are
/// checked at every tick and the next tick is never later than the earliest deadline. Failed
/// listings only slow the poller down: waiters keep waiting until their deadline.
///
/// Pure: talks to the cloud through `client`, waits with the `timer` port and reads the
/// `clock` port. Not thread-safe; the same executor contract as `client`. Callbacks run on
/// that executor and may register or cancel waiters. Destroying the poller drops pending
/// callbacks without calling them.
class status_poller {
public:
  using callback_type = std::function<void(const wait_result&)>;

  status_poller(client& os, timer& tmr, clock& clk, status_poller_config config = {});

  ~status_poller();

  status_poller(const status_poller&) = delete;
  status_poller& operator=(const status_poller&) = delete;

  /// Waits until server `id` has a status in `targets` (default `ACTIVE`), goes to `ERROR`
  /// (`failed` with Nova's fault) or away (`gone`), or `deadline` passes (`timed_out`).
  waiter_id wait_for_server(std::string id, clock::time_point deadline, callback_type cb,
                            std::vector<std::string> targets = {"ACTIVE"});

  /// Waits until volume `id` has a status in `targets` (default `available`), an `error*`
  /// status (`failed`), disappears (`gone`) or `deadline` passes.
  waiter_id wait_for_volume(std::string id, clock::time_point deadline, callback_type cb,
                            std::vector<std::string> targets = {"available"});

  /// Forgets a waiter without calling it; false if it already finished or never existed.
  bool cancel(waiter_id id);

  /// Waiters registered and not finished yet.
  std::size_t waiting() const;

  /// The interval the poller would use after the current tick.
  std::chrono::milliseconds interval() const;

  status_poller_stats stats() const;

  /// The last failure of a listing or lookup, if the last one failed.
  std::optional<os_error> last_error() const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace orch::openstack
