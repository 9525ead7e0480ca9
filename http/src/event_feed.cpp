#include "orch/http/event_feed.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "log.hpp"
#include "orch/errc.hpp"
#include "orch/http/sse.hpp"
#include "orch/schemas/deployment_json.hpp"

namespace orch::http {

namespace {

using std::chrono::steady_clock;

// Events per read; a longer backlog takes several.
constexpr int read_limit = 1000;

bool reaches_deleted(const deployment_event& ev) {
  auto change = std::get_if<status_changed>(&ev.data);
  return change != nullptr && change->to == deployment_status::deleted;
}

// One event as every stream sends it, formatted once per read.
struct formatted_event {
  int64_t seq;
  std::string text;
  bool deleted;
};

} // namespace

// -- metrics ------------------------------------------------------------------------------------

event_feed_metrics::event_feed_metrics(prometheus::Registry& registry)
  : subscribers(prometheus::BuildGauge()
                  .Name("sse_subscribers")
                  .Help("Server-Sent Events streams open on this node")
                  .Register(registry)
                  .Add({})),
    refused(prometheus::BuildCounter()
              .Name("sse_subscribers_refused_total")
              .Help("Event streams answered 503 because SSE_MAX_SUBSCRIBERS were open")
              .Register(registry)
              .Add({})),
    dropped(prometheus::BuildCounter()
              .Name("sse_subscribers_dropped_total")
              .Help("Event streams closed because their client read too slowly")
              .Register(registry)
              .Add({})),
    fetches(prometheus::BuildCounter()
              .Name("sse_fanout_fetches_total")
              .Help("Event reads made for the streams, shared by all streams of a deployment")
              .Register(registry)
              .Add({})) {
  // nop
}

// -- state --------------------------------------------------------------------------------------

struct event_feed::slot::state {
  explicit state(std::weak_ptr<event_feed::impl> feed) : owner(std::move(feed)) {
    // nop
  }
  ~state();
  // Weak: the feed's streams hold their places, and the feed must not keep itself alive.
  std::weak_ptr<event_feed::impl> owner;
};

struct event_feed::impl : std::enable_shared_from_this<impl> {
  struct subscriber {
    std::shared_ptr<stream_writer> writer;
    std::shared_ptr<slot::state> place;
    int64_t last_seq = 0;
    bool deleted = false;
    std::string request_id;
    steady_clock::time_point last_write;
  };

  using subscriber_ptr = std::shared_ptr<subscriber>;

  // The streams of one deployment. At most one read runs for it at a time; a notification
  // during a read makes that read go again, so nothing new is missed and reads never overlap.
  struct topic {
    std::vector<subscriber_ptr> subscribers;
    bool reading = false;
    bool again = false;
  };

  // What a read decided under the lock, done after releasing it: a writer's close may run its
  // close callbacks (which take the lock) on the calling thread.
  struct actions {
    std::vector<std::pair<subscriber_ptr, std::string>> writes;
    std::vector<subscriber_ptr> closes;

    void run() {
      for (auto& [sub, text] : writes) sub->writer->write(std::move(text));
      for (auto& sub : closes) sub->writer->close();
    }
  };

  impl(event_feed_config config, persistence::deployment_repository& store,
       blocking_executor executor, event_feed_metrics& counters)
    : cfg(config), events(store), run_blocking(std::move(executor)), metrics(counters) {
    // nop
  }

  void release_place() {
    taken.fetch_sub(1);
    metrics.subscribers.Decrement();
  }

  void add(const uuid& id, const subscriber_ptr& sub) {
    std::lock_guard guard{mtx};
    topics[id].subscribers.push_back(sub);
  }

  void remove(const uuid& id, const subscriber_ptr& sub) {
    std::lock_guard guard{mtx};
    auto t = topics.find(id);
    if (t == topics.end()) return;
    auto& subs = t->second.subscribers;
    subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
    if (subs.empty() && !t->second.reading) topics.erase(t);
  }

  void notify(const uuid& id) {
    {
      std::lock_guard guard{mtx};
      auto t = topics.find(id);
      if (t == topics.end()) return;
      if (t->second.reading) {
        t->second.again = true;
        return;
      }
      t->second.reading = true;
    }
    run_blocking([self = shared_from_this(), id] {
      {
        std::lock_guard guard{self->mtx};
        if (self->closed) return;
        ++self->running;
      }
      auto failed = false;
      try {
        self->read(id);
      } catch (const std::exception& ex) {
        log()->error("[d:{}] event feed read failed: {}", to_string(id), ex.what());
        failed = true;
      }
      std::lock_guard guard{self->mtx};
      // The next notification or safety poll reads again.
      if (auto t = self->topics.find(id); failed && t != self->topics.end())
        t->second.reading = false;
      --self->running;
      self->idle.notify_all();
    });
  }

  // Reads what is new for the streams of `id` and hands it to them, until no notification
  // came in meanwhile. Runs on the blocking pool.
  void read(const uuid& id) {
    for (;;) {
      int64_t from = std::numeric_limits<int64_t>::max();
      {
        std::lock_guard guard{mtx};
        auto t = topics.find(id);
        if (t == topics.end()) return;
        t->second.again = false;
        for (const auto& sub : t->second.subscribers) from = std::min(from, sub->last_seq);
        if (t->second.subscribers.empty()) {
          t->second.reading = false;
          topics.erase(t);
          return;
        }
      }
      std::vector<formatted_event> batch;
      auto err = fetch(id, from, batch);
      actions todo;
      {
        std::lock_guard guard{mtx};
        auto t = topics.find(id);
        if (t == topics.end()) return;
        deliver(id, from, err, batch, t->second, todo);
      }
      // Still `reading` while writing: a read that started now could overtake these writes.
      todo.run();
      std::lock_guard guard{mtx};
      auto t = topics.find(id);
      if (t == topics.end()) return;
      if (t->second.again) continue;
      t->second.reading = false;
      if (t->second.subscribers.empty()) topics.erase(t);
      return;
    }
  }

  // Every event after `from`, formatted; the error that stopped the reading, if any.
  caf::error fetch(const uuid& id, int64_t from, std::vector<formatted_event>& out) {
    try {
      for (;;) {
        metrics.fetches.Increment();
        auto got = events.events(id, from, read_limit);
        if (!got) return std::move(got.error());
        for (const auto& ev : *got) {
          out.push_back({ev.seq,
                         format_sse_event(std::to_string(ev.seq), event_type(ev.data),
                                          schemas::to_api_json(ev)),
                         reaches_deleted(ev)});
          from = ev.seq;
        }
        if (static_cast<int>(got->size()) < read_limit) return caf::none;
      }
    } catch (const std::exception& ex) {
      return make_error(errc::internal, ex.what());
    }
  }

  // Decides, under the lock, what each stream of `t` gets from a read that started after
  // `from`.
  void deliver(const uuid& id, int64_t from, const caf::error& err,
               const std::vector<formatted_event>& batch, topic& t, actions& todo) {
    if (err && is(err, errc::store_unavailable)) {
      // The database may come back: the streams stay, and the next notification or safety
      // poll reads again.
      log()->debug("[d:{}] event streams wait for the database: {}", to_string(id),
                   error_detail(err));
      return;
    }
    auto now = steady_clock::now();
    std::vector<subscriber_ptr> keep;
    for (auto& sub : t.subscribers) {
      if (err) {
        log()->warn("[r:{}] [d:{}] event stream ends: {}", sub->request_id, to_string(id),
                    error_detail(err));
        todo.closes.push_back(sub);
        continue;
      }
      // Joined after this read began further on: the read does not reach back to its seq,
      // and the next read (its subscription asked for one) will.
      if (sub->last_seq < from) {
        keep.push_back(sub);
        continue;
      }
      std::string out;
      auto last_seq = sub->last_seq;
      auto deleted = sub->deleted;
      for (const auto& ev : batch) {
        if (ev.seq <= last_seq) continue;
        out += ev.text;
        last_seq = ev.seq;
        deleted = deleted || ev.deleted;
      }
      if (!out.empty()) {
        auto queued = sub->writer->queued_bytes();
        if (queued + out.size() > cfg.max_queued_bytes) {
          metrics.dropped.Increment();
          log()->warn("[r:{}] [d:{}] event stream closed: the client reads too slowly ({} bytes "
                      "queued); it resumes with Last-Event-ID {}",
                      sub->request_id, to_string(id), queued, sub->last_seq);
          todo.closes.push_back(sub);
          continue;
        }
        sub->last_seq = last_seq;
        sub->last_write = now;
        todo.writes.emplace_back(sub, std::move(out));
      }
      sub->deleted = deleted;
      if (deleted)
        todo.closes.push_back(sub);
      else
        keep.push_back(sub);
    }
    t.subscribers = std::move(keep);
  }

  void tick(steady_clock::time_point now) {
    std::vector<uuid> ids;
    actions todo;
    {
      std::lock_guard guard{mtx};
      for (auto& [id, t] : topics) {
        ids.push_back(id);
        for (auto& sub : t.subscribers) {
          if (now - sub->last_write < cfg.heartbeat_interval) continue;
          sub->last_write = now;
          todo.writes.emplace_back(sub, format_sse_comment("keep-alive"));
        }
      }
    }
    todo.run();
    for (const auto& id : ids) notify(id);
  }

  std::vector<uuid> topic_ids() const {
    std::lock_guard guard{mtx};
    std::vector<uuid> ids;
    for (const auto& entry : topics) ids.push_back(entry.first);
    return ids;
  }

  const event_feed_config cfg;
  persistence::deployment_repository& events;
  blocking_executor run_blocking;
  event_feed_metrics& metrics;
  std::atomic<std::size_t> taken{0};
  mutable std::mutex mtx;
  std::map<uuid, topic> topics;
  // Reads running now; none starts once `closed`, so the destructor can wait them out.
  int running = 0;
  bool closed = false;
  std::condition_variable idle;
  // The ticker.
  std::mutex ticker_mtx;
  std::condition_variable ticker_cv;
  bool stopping = false;
  std::thread ticker;
};

event_feed::slot::state::~state() {
  if (auto self = owner.lock()) self->release_place();
}

// -- slot ---------------------------------------------------------------------------------------

event_feed::slot::slot(std::shared_ptr<state> st) noexcept : st_(std::move(st)) {
  // nop
}

event_feed::slot::slot(slot&& other) noexcept : st_(std::move(other.st_)) {
  // nop
}

event_feed::slot::~slot() = default;

// -- event_feed ---------------------------------------------------------------------------------

event_feed::event_feed(event_feed_config cfg, persistence::deployment_repository& events,
                       blocking_executor run_blocking, event_feed_metrics& metrics)
  : impl_(std::make_shared<impl>(cfg, events, std::move(run_blocking), metrics)) {
  // nop
}

event_feed::~event_feed() {
  {
    std::lock_guard guard{impl_->ticker_mtx};
    impl_->stopping = true;
  }
  impl_->ticker_cv.notify_all();
  if (impl_->ticker.joinable()) impl_->ticker.join();
  // The streams end with the feed, as they would with the server; no read runs afterwards, so
  // the repository and the metrics may go right after the feed.
  impl::actions todo;
  {
    std::unique_lock guard{impl_->mtx};
    impl_->closed = true;
    impl_->idle.wait(guard, [this] { return impl_->running == 0; });
    for (auto& entry : impl_->topics)
      for (auto& sub : entry.second.subscribers) todo.closes.push_back(sub);
    impl_->topics.clear();
  }
  todo.run();
}

std::optional<event_feed::slot> event_feed::reserve() {
  auto n = impl_->taken.load();
  do {
    if (n >= impl_->cfg.max_subscribers) {
      impl_->metrics.refused.Increment();
      return std::nullopt;
    }
  } while (!impl_->taken.compare_exchange_weak(n, n + 1));
  impl_->metrics.subscribers.Increment();
  return slot{std::make_shared<slot::state>(impl_)};
}

void event_feed::subscribe(slot place, const uuid& id, int64_t after_seq, bool deleted,
                           std::shared_ptr<stream_writer> writer, std::string request_id) {
  auto sub = std::make_shared<impl::subscriber>();
  sub->writer = writer;
  sub->place = std::move(place.st_);
  sub->last_seq = after_seq;
  sub->deleted = deleted;
  sub->request_id = std::move(request_id);
  sub->last_write = steady_clock::now();
  impl_->add(id, sub);
  // Registered after `add`: a writer that is already closed runs the callback at once.
  writer->on_close([weak = std::weak_ptr<impl>{impl_}, id, weak_sub = std::weak_ptr{sub}] {
    auto self = weak.lock();
    auto gone = weak_sub.lock();
    if (self && gone) self->remove(id, gone);
  });
  impl_->notify(id);
}

void event_feed::notify(const uuid& id) {
  impl_->notify(id);
}

void event_feed::notify_all() {
  for (const auto& id : impl_->topic_ids()) impl_->notify(id);
}

void event_feed::tick(std::chrono::steady_clock::time_point now) {
  impl_->tick(now);
}

void event_feed::start_ticker() {
  std::lock_guard guard{impl_->ticker_mtx};
  if (impl_->ticker.joinable() || impl_->stopping) return;
  impl_->ticker = std::thread{[st = impl_.get()] {
    std::unique_lock lock{st->ticker_mtx};
    while (!st->stopping) {
      if (st->ticker_cv.wait_for(lock, st->cfg.poll_interval, [st] { return st->stopping; })) break;
      lock.unlock();
      try {
        st->tick(steady_clock::now());
      } catch (const std::exception& ex) {
        log()->error("event feed tick failed: {}", ex.what());
      }
      lock.lock();
    }
  }};
}

std::size_t event_feed::subscribers() const {
  return impl_->taken.load();
}

} // namespace orch::http
