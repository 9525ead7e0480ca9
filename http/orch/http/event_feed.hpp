#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "orch/http/server.hpp"
#include "orch/persistence/deployment_repository.hpp"
#include "orch/uuid.hpp"

namespace orch::http {

/// Every metric of the event streams, registered in the registry `apps/` passes in.
struct event_feed_metrics {
  explicit event_feed_metrics(prometheus::Registry& registry);

  /// `sse_subscribers`: event streams open on this node.
  prometheus::Gauge& subscribers;

  /// `sse_subscribers_refused_total`: event streams answered 503 over `SSE_MAX_SUBSCRIBERS`.
  prometheus::Counter& refused;

  /// `sse_subscribers_dropped_total`: event streams closed because their client did not read
  /// fast enough (it resumes with `Last-Event-ID`).
  prometheus::Counter& dropped;

  /// `sse_fanout_fetches_total`: event reads made for the streams, one per notification (or
  /// safety poll) of a deployment with subscribers, whatever their number.
  prometheus::Counter& fetches;
};

/// Settings of an `event_feed`.
struct event_feed_config {
  /// `SSE_MAX_SUBSCRIBERS`: streams open at once; `reserve` refuses one more.
  std::size_t max_subscribers = 1'000;
  /// How often deployments with subscribers are read without a notification, which covers
  /// notifications lost while the listener reconnects (and serves alone where there is none).
  std::chrono::milliseconds poll_interval{2'000};
  /// Idle time after which a stream gets a comment, so proxies keep it open.
  std::chrono::milliseconds heartbeat_interval{15'000};
  /// Bytes a stream may have queued for its socket; a stream over it is closed, so that a
  /// client that stopped reading holds no memory and no one else's events.
  std::size_t max_queued_bytes = 1024 * 1024;
};

/// Runs blocking work (a repository read) off the calling thread: the blocking pool.
using blocking_executor = std::function<void(std::function<void()>)>;

/// The one source of live events of a node: every Server-Sent Events stream subscribes here,
/// and each notification that a deployment has new events (PostgreSQL `LISTEN`, see
/// `persistence::listener`) reads them once, through `run_blocking`, for all of that
/// deployment's streams. Every stream gets each event once, in seq order, after the seq it
/// started from, and ends after the event that makes its deployment DELETED. Thread-safe.
class event_feed {
public:
  /// A place among the `max_subscribers` streams, taken by `reserve` and handed to
  /// `subscribe`; destroying it unused gives the place back. Move-only.
  class slot {
  public:
    slot(slot&& other) noexcept;
    slot& operator=(slot&&) = delete;
    ~slot();

  private:
    friend class event_feed;
    struct state;
    explicit slot(std::shared_ptr<state> st) noexcept;
    std::shared_ptr<state> st_;
  };

  /// Reads events from `events` with `run_blocking`; counts into `metrics`. Both must outlive
  /// the feed.
  event_feed(event_feed_config cfg, persistence::deployment_repository& events,
             blocking_executor run_blocking, event_feed_metrics& metrics);

  /// Stops the ticker, waits for a read in progress, and closes every stream. Reads queued but
  /// not started do nothing.
  ~event_feed();

  event_feed(const event_feed&) = delete;
  event_feed& operator=(const event_feed&) = delete;

  /// Takes a place for one more stream; `nullopt` (and `sse_subscribers_refused_total` counts
  /// it) when `max_subscribers` are open or reserved. Never blocks: call it on an I/O thread.
  std::optional<slot> reserve();

  /// Streams the events of deployment `id` after seq `after_seq` to `writer`, in the SSE
  /// format (`id:` seq, `event:` type, `data:` the event's JSON). With `deleted`, the stream
  /// ends once it sent what is stored (the deployment was already DELETED). The stream leaves
  /// the feed when the writer closes. `request_id` is for logs.
  void subscribe(slot place, const uuid& id, int64_t after_seq, bool deleted,
                 std::shared_ptr<stream_writer> writer, std::string request_id);

  /// Deployment `id` may have new events: reads them once for all its streams (nothing when it
  /// has none). Never blocks; call it from the listener's thread.
  void notify(const uuid& id);

  /// Every deployment with streams may have new events (the listener reconnected).
  void notify_all();

  /// The periodic work: keep-alive comments to streams idle since `heartbeat_interval`, and a
  /// read for every deployment with streams (the safety poll). The ticker calls it every
  /// `poll_interval`; tests call it directly with their own `now`.
  void tick(std::chrono::steady_clock::time_point now);

  /// Calls `tick` every `poll_interval` on a thread of its own until the feed is destroyed.
  /// Idempotent.
  void start_ticker();

  /// Streams open now.
  std::size_t subscribers() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace orch::http
