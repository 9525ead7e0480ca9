#include "orch/openstack/status_poller.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

namespace orch::openstack {

using std::chrono::milliseconds;

std::string to_string(wait_outcome x) {
  switch (x) {
    case wait_outcome::reached: return "reached";
    case wait_outcome::failed: return "failed";
    case wait_outcome::gone: return "gone";
    case wait_outcome::timed_out: return "timed_out";
  }
  return "unknown";
}

namespace {

enum class watched { server, volume };

struct waiter {
  watched kind = watched::server;
  std::string resource;
  clock::time_point deadline;
  status_poller::callback_type cb;
  std::vector<std::string> targets;
  /// Lowers `changes-since` so that the first listing after registering covers this one.
  timestamp registered_utc;
  /// Bounds the interval (`max_lag_fraction`).
  clock::time_point registered;
  /// Registered before the current tick's requests went out, so their answers cover it.
  bool covered = false;
  /// Some listing or lookup mentioned the resource.
  bool seen = false;
  std::string last_status;
};

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

struct status_poller::impl : std::enable_shared_from_this<impl> {
  client& os;
  timer& tmr;
  clock& clk;
  status_poller_config cfg;
  std::map<waiter_id, waiter> waiters;
  waiter_id next_id = 1;
  /// Newest `updated` seen, or the earliest registration not yet covered.
  std::optional<timestamp> since;
  milliseconds current_interval;
  bool in_flight = false;
  bool changed = false;
  bool reset_interval = false;
  std::size_t pending_parts = 0;
  std::uint64_t wake_generation = 0;
  std::optional<clock::time_point> wake_at;
  status_poller_stats counters;
  std::optional<os_error> last_error;
  bool stopped = false;
  /// Finished waits whose callbacks run once the current step is done.
  std::vector<std::pair<callback_type, wait_result>> ready;

  impl(client& c, timer& t, clock& k, status_poller_config config)
    : os(c), tmr(t), clk(k), cfg(config), current_interval(config.fast_interval) {
    // nop
  }

  std::weak_ptr<impl> weak() { return shared_from_this(); }

  waiter_id add(waiter w) {
    auto id = next_id++;
    w.registered_utc = clk.utc_now();
    w.registered = clk.now();
    if (w.kind == watched::server) {
      bool first = std::none_of(waiters.begin(), waiters.end(),
                                [](const auto& kv) { return kv.second.kind == watched::server; });
      // Without other server waiters the old window only holds changes nobody waits for.
      since = since && !first ? std::min(*since, w.registered_utc) : w.registered_utc;
    }
    waiters.emplace(id, std::move(w));
    current_interval = cfg.fast_interval;
    reset_interval = true;
    if (!in_flight) schedule(clk.now() + cfg.fast_interval);
    return id;
  }

  void resolve(std::map<waiter_id, waiter>::iterator i, wait_outcome outcome,
               const server* srv = nullptr) {
    wait_result res;
    res.outcome = outcome;
    res.id = i->second.resource;
    res.status = i->second.last_status;
    if (srv != nullptr) {
      res.fault_code = srv->fault_code;
      res.fault_message = srv->fault_message;
    }
    ready.emplace_back(std::move(i->second.cb), std::move(res));
    waiters.erase(i);
    changed = true;
  }

  /// Runs the callbacks of finished waits. Returns false if a callback destroyed the poller.
  bool notify() {
    auto keep = shared_from_this();
    auto batch = std::move(ready);
    ready.clear();
    for (auto& [cb, res] : batch) {
      if (stopped) break;
      if (cb) cb(res);
    }
    return !stopped;
  }

  void expire() {
    auto now = clk.now();
    for (auto i = waiters.begin(); i != waiters.end();) {
      auto next = std::next(i);
      if (i->second.deadline <= now) resolve(i, wait_outcome::timed_out);
      i = next;
    }
  }

  void schedule(clock::time_point when) {
    for (auto& [id, w] : waiters) when = std::min(when, w.deadline);
    if (wake_at && *wake_at <= when) return;
    wake_at = when;
    auto generation = ++wake_generation;
    auto delay = std::chrono::ceil<milliseconds>(when - clk.now());
    tmr.after(std::max(delay, milliseconds{0}), [w = weak(), generation] {
      auto self = w.lock();
      if (!self || self->stopped || generation != self->wake_generation) return;
      self->wake_at.reset();
      self->on_wake();
    });
  }

  void on_wake() {
    expire();
    if (!notify()) return;
    if (waiters.empty() || in_flight) return;
    start_tick();
  }

  void start_tick() {
    std::vector<waiter_id> covering;
    bool has_servers = false;
    bool has_volumes = false;
    for (auto& [id, w] : waiters) {
      covering.push_back(id);
      has_servers = has_servers || w.kind == watched::server;
      has_volumes = has_volumes || w.kind == watched::volume;
    }
    in_flight = true;
    changed = false;
    reset_interval = false;
    ++counters.ticks;
    // Set before sending: the client may answer before returning.
    pending_parts = (has_servers ? 1 : 0) + (has_volumes ? 1 : 0);
    if (has_servers) {
      ++counters.server_lists;
      server_filters filters;
      if (since) filters.changes_since = *since - cfg.changes_since_skew;
      auto queried_since = since;
      os.list_servers_detail(filters, [w = weak(), covering, queried_since](auto res) {
        if (auto self = w.lock(); self && !self->stopped)
          self->on_servers(std::move(res), covering, queried_since);
      });
    }
    if (has_volumes) {
      ++counters.volume_lists;
      os.list_volumes(volume_filters{}, [w = weak(), covering](auto res) {
        if (auto self = w.lock(); self && !self->stopped)
          self->on_volumes(std::move(res), covering);
      });
    }
  }

  /// The server waiters by server id.
  std::unordered_map<std::string, std::vector<waiter_id>> server_watchers() const {
    std::unordered_map<std::string, std::vector<waiter_id>> result;
    for (auto& [id, w] : waiters)
      if (w.kind == watched::server) result[w.resource].push_back(id);
    return result;
  }

  /// Applies one observed server to the waiters `ids` watching it.
  void observe(const server& srv, const std::vector<waiter_id>& ids) {
    for (auto id : ids) {
      auto i = waiters.find(id);
      if (i == waiters.end()) continue;
      auto& w = i->second;
      w.seen = true;
      if (w.last_status != srv.status) {
        w.last_status = srv.status;
        changed = true;
      }
      if (contains(w.targets, srv.status))
        resolve(i, wait_outcome::reached, &srv);
      else if (srv.status == "ERROR")
        resolve(i, wait_outcome::failed, &srv);
      else if (srv.status == "DELETED" || srv.status == "SOFT_DELETED")
        resolve(i, wait_outcome::gone, &srv);
    }
  }

  void on_servers(result<std::vector<server>> res, const std::vector<waiter_id>& covering,
                  std::optional<timestamp> queried_since) {
    std::vector<std::string> lookups;
    if (!res) {
      ++counters.failures;
      last_error = res.error();
    } else {
      last_error.reset();
      auto newest = queried_since;
      // One lookup per listed server, not one pass over the waiters per listed server.
      auto watchers = server_watchers();
      for (auto& srv : *res) {
        if (srv.updated && (!newest || *srv.updated > *newest)) newest = srv.updated;
        if (auto i = watchers.find(srv.id); i != watchers.end()) observe(srv, i->second);
      }
      for (auto id : covering) {
        auto i = waiters.find(id);
        if (i == waiters.end() || i->second.kind != watched::server) continue;
        i->second.covered = true;
        // Its server last changed before our window: ask for it directly, once.
        if (!i->second.seen) lookups.push_back(i->second.resource);
      }
      since = newest;
      for (auto& [id, w] : waiters)
        if (w.kind == watched::server && !w.covered)
          since = since ? std::min(*since, w.registered_utc) : w.registered_utc;
    }
    std::sort(lookups.begin(), lookups.end());
    lookups.erase(std::unique(lookups.begin(), lookups.end()), lookups.end());
    pending_parts += lookups.size();
    for (auto& id : lookups) {
      ++counters.lookups;
      os.get_server(id, [w = weak(), id](result<server> r) {
        if (auto self = w.lock(); self && !self->stopped) self->on_lookup(id, std::move(r));
      });
    }
    part_done();
  }

  void on_lookup(const std::string& id, result<server> res) {
    if (res) {
      if (auto watchers = server_watchers(); watchers.count(res->id) > 0)
        observe(*res, watchers[res->id]);
    } else if (res.error().kind == os_error_kind::not_found) {
      for (auto i = waiters.begin(); i != waiters.end();) {
        auto next = std::next(i);
        if (i->second.kind == watched::server && i->second.resource == id)
          resolve(i, wait_outcome::gone);
        i = next;
      }
    } else {
      // Left unseen: the next tick asks again.
      ++counters.failures;
      last_error = res.error();
    }
    part_done();
  }

  void on_volumes(result<std::vector<volume>> res, const std::vector<waiter_id>& covering) {
    if (!res) {
      ++counters.failures;
      last_error = res.error();
      return part_done();
    }
    std::unordered_map<std::string, const volume*> by_id;
    for (auto& vol : *res) by_id.emplace(vol.id, &vol);
    for (auto i = waiters.begin(); i != waiters.end();) {
      auto next = std::next(i);
      auto& w = i->second;
      if (w.kind != watched::volume) {
        i = next;
        continue;
      }
      auto found = by_id.find(w.resource);
      if (found == by_id.end()) {
        // A full listing without it means it is gone, but only if the listing was sent
        // after the waiter registered (the volume existed by then).
        if (std::find(covering.begin(), covering.end(), i->first) != covering.end())
          resolve(i, wait_outcome::gone);
        i = next;
        continue;
      }
      auto& status = found->second->status;
      w.seen = true;
      if (w.last_status != status) {
        w.last_status = status;
        changed = true;
      }
      if (contains(w.targets, status))
        resolve(i, wait_outcome::reached);
      else if (status.starts_with("error"))
        resolve(i, wait_outcome::failed);
      else if (status == "deleted")
        resolve(i, wait_outcome::gone);
      i = next;
    }
    part_done();
  }

  void part_done() {
    if (--pending_parts > 0) return;
    in_flight = false;
    expire();
    if (!notify()) return;
    if (changed || reset_interval)
      current_interval = cfg.fast_interval;
    else
      current_interval = std::min(cfg.idle_interval, current_interval * 2);
    if (cfg.max_lag_fraction > 0 && !waiters.empty()) {
      auto youngest = std::max_element(waiters.begin(), waiters.end(), [](auto& x, auto& y) {
                        return x.second.registered < y.second.registered;
                      })->second.registered;
      auto lag
        = std::chrono::duration_cast<milliseconds>((clk.now() - youngest) * cfg.max_lag_fraction);
      current_interval = std::min(current_interval, std::max(cfg.fast_interval, lag));
    }
    reset_interval = false;
    if (!waiters.empty()) schedule(clk.now() + current_interval);
  }
};

status_poller::status_poller(client& os, timer& tmr, clock& clk, status_poller_config config)
  : impl_(std::make_shared<impl>(os, tmr, clk, config)) {
  // nop
}

status_poller::~status_poller() {
  impl_->stopped = true;
  impl_->waiters.clear();
  impl_->ready.clear();
}

waiter_id status_poller::wait_for_server(std::string id, clock::time_point deadline,
                                         callback_type cb, std::vector<std::string> targets) {
  waiter w;
  w.kind = watched::server;
  w.resource = std::move(id);
  w.deadline = deadline;
  w.cb = std::move(cb);
  w.targets = std::move(targets);
  return impl_->add(std::move(w));
}

waiter_id status_poller::wait_for_volume(std::string id, clock::time_point deadline,
                                         callback_type cb, std::vector<std::string> targets) {
  waiter w;
  w.kind = watched::volume;
  w.resource = std::move(id);
  w.deadline = deadline;
  w.cb = std::move(cb);
  w.targets = std::move(targets);
  return impl_->add(std::move(w));
}

bool status_poller::cancel(waiter_id id) {
  return impl_->waiters.erase(id) > 0;
}

std::size_t status_poller::waiting() const {
  return impl_->waiters.size();
}

std::chrono::milliseconds status_poller::interval() const {
  return impl_->current_interval;
}

status_poller_stats status_poller::stats() const {
  return impl_->counters;
}

std::optional<os_error> status_poller::last_error() const {
  return impl_->last_error;
}

} // namespace orch::openstack
