#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <stdexcept>

#include "orch/ansible/inventory.hpp"
#include "orch/ansible/playbook.hpp"
#include "orch/deployment/restart_budget.hpp"
#include "orch/errc.hpp"
#include "orch/logging.hpp"
#include "runtime.hpp"

namespace orch::actors {

namespace {

constexpr const char* command_names[] = {
  "record_event",          "find_by_tag",
  "create_network",        "create_subnet",
  "create_router",         "set_router_gateway",
  "add_router_interface",  "create_server",
  "wait_server_active",    "create_volume",
  "wait_volume_available", "attach_volume",
  "detach_volume",         "remove_router_interface",
  "clear_router_gateway",  "delete_resource",
  "resize_server",         "confirm_resize",
  "revert_resize",         "rebuild_server",
};
static_assert(std::size(command_names) == std::variant_size_v<deployment_command>);

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

/// The resource kind a command works on, for the `step_failed` of a crashed child.
resource_kind kind_of(const deployment_command& cmd) {
  return std::visit(
    overloaded{
      [](const record_event&) { return resource_kind::network; },
      [](const find_by_tag& c) { return c.kind; },
      [](const create_network&) { return resource_kind::network; },
      [](const create_subnet&) { return resource_kind::subnet; },
      [](const create_router&) { return resource_kind::router; },
      [](const set_router_gateway&) { return resource_kind::router_gateway; },
      [](const add_router_interface&) { return resource_kind::router_interface; },
      [](const create_server&) { return resource_kind::server; },
      [](const wait_server_active&) { return resource_kind::server; },
      [](const create_volume&) { return resource_kind::volume; },
      [](const wait_volume_available&) { return resource_kind::volume; },
      [](const attach_volume&) { return resource_kind::volume_attachment; },
      [](const detach_volume&) { return resource_kind::volume_attachment; },
      [](const remove_router_interface&) { return resource_kind::router_interface; },
      [](const clear_router_gateway&) { return resource_kind::router_gateway; },
      [](const delete_resource& c) { return c.kind; },
      [](const resize_server&) { return resource_kind::server; },
      [](const confirm_resize&) { return resource_kind::server; },
      [](const revert_resize&) { return resource_kind::server; },
      [](const rebuild_server&) { return resource_kind::server; },
    },
    cmd);
}

/// The child actor that runs a command: one per VM, one per volume (with its attachment) and
/// one for the network with its subnets and router.
std::string child_key(const deployment_command& cmd) {
  auto logical = logical_name_of(cmd);
  auto colon = logical.find(':');
  if (colon == std::string::npos) return "network";
  auto prefix = logical.substr(0, colon);
  if (prefix == "vm") return logical;
  if (prefix == "volume" || prefix == "attachment") return "volume:" + logical.substr(colon + 1);
  return "network";
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// Runs the cloud commands of one resource for its deployment actor: forwards each to the
/// cloud actor and reports the outcome back. Has no state of its own, so a restart only has
/// to re-issue the commands that were out.
caf::behavior child_actor(caf::event_based_actor* self, caf::actor parent, context_ptr ctx,
                          std::string region, uuid deployment, actor_metrics* metrics) {
  if (metrics) {
    metrics->actor_started("child");
    self->attach_functor([metrics](const caf::error&) { metrics->actor_stopped("child"); });
  }
  return {
    [=](run_atom, uint64_t cmd_id, deployment_command& cmd, bool crash, bool reissue) {
      if (crash) throw std::runtime_error("injected fault in child actor");
      // Looked up per command: the manager replaces a crashed cloud actor.
      self->send(ctx->cloud_for(region), run_atom::value, cmd_id, deployment, std::move(cmd),
                 reissue);
    },
    [=](result_atom, uint64_t cmd_id, input_event& ev) {
      self->send(parent, result_atom::value, cmd_id, std::move(ev));
    },
  };
}

} // namespace

struct deployment_state {
  static inline const char* name = "deployment";

  enum class phase { loading, running };

  struct running_command {
    deployment_command cmd;
    std::string child;
    std::chrono::steady_clock::time_point started;
    /// The operation it was issued for (see `operation_generation`).
    uint64_t generation = 0;
    /// When the watchdog gives up on its answer (re-issues it, or fails the step); on the
    /// actor's clock.
    caf::actor_clock::time_point deadline;
    /// Times the watchdog sent it again.
    int reissues = 0;
  };

  struct child_entry {
    caf::actor hdl;
    restart_budget budget;
  };

  struct delete_waiter {
    caf::response_promise rp;
    /// Answer once this many record_events are committed.
    uint64_t after_records = 0;
  };

  context_ptr ctx;
  uuid id;
  std::string log_id;
  phase ph = phase::loading;
  std::optional<deployment_fsm> fsm;
  /// The record as stored: the fold of every committed event.
  deployment_record committed;
  int64_t epoch = 0;
  int64_t events_since_snapshot = 0;
  /// Commands not started yet, in the order the machine returned them.
  std::deque<deployment_command> backlog;
  /// Commands free to start: no uncommitted record_event came before them.
  std::deque<deployment_command> ready;
  /// How many record_events (the first ones of the backlog) are being committed; 0 if none.
  size_t committing = 0;
  /// The batch being committed. A failed commit sends exactly this batch again, so a commit
  /// that was stored although its answer was lost is recognised by the store and not stored
  /// twice.
  std::optional<persistence::event_batch> in_flight;
  /// Seq of the newest committed event.
  int64_t last_seq = 0;
  uint64_t records_queued = 0;
  uint64_t records_committed = 0;
  std::map<uint64_t, running_command> running;
  /// `running.size()` as last added to the in-flight gauge; shared with the exit hook, which
  /// takes it back out.
  std::shared_ptr<int64_t> in_flight_reported = std::make_shared<int64_t>(0);
  uint64_t next_command = 1;
  std::map<std::string, child_entry> children;
  std::map<caf::actor_addr, std::string> child_of;
  /// Shared with the exit hook, which must not touch the state.
  std::shared_ptr<std::set<caf::actor>> live = std::make_shared<std::set<caf::actor>>();
  bool delete_requested = false;
  std::vector<delete_waiter> delete_waiters;
  /// Accepted updates and scales, answered like deletes once their first events are stored.
  std::vector<delete_waiter> change_waiters;
  /// Updates and scales that arrived while loading.
  std::vector<std::pair<deployment_change, caf::response_promise>> pending_changes;
  uint64_t idle_generation = 0;
  /// Bumped when a delete cancels the running operation: the machine forgets that operation's
  /// waits, so their late answers must not reach it (they would match the delete's own step
  /// for the same resource).
  uint64_t operation_generation = 0;
  bool has_cloud = false;
  /// Failed attempts to claim and load the deployment while the store is unavailable.
  int start_failures = 0;
  /// Whether a watchdog tick is scheduled.
  bool ticking = false;
  /// Set when the supervisor's restart budget is spent: the reason of the last crash.
  std::optional<std::string> give_up;

  /// The configuration run this actor started, from the request until it ends.
  struct configure_job {
    persistence::configuration_run run;
    caf::response_promise rp;
    /// The run starts once this many record_events are committed (CONFIGURING is stored
    /// before any host is touched).
    uint64_t after_records = 0;
    bool launched = false;
  };
  std::optional<configure_job> configure;
  /// Configure requests that came while the deployment was loading.
  std::vector<std::pair<configure_request, caf::response_promise>> configure_requests;
};

namespace {

using self_ptr = caf::stateful_actor<deployment_state>*;

std::shared_ptr<spdlog::logger> log() {
  return orch::logger("orch.actors");
}

void pump(self_ptr self);
void launch_configure(self_ptr self);

void deliver_delete_waiters(self_ptr self) {
  auto& st = self->state;
  for (auto* ws : {&st.delete_waiters, &st.change_waiters})
    for (auto i = ws->begin(); i != ws->end();) {
      if (st.records_committed >= i->after_records) {
        i->rp.deliver(st.committed);
        i = ws->erase(i);
      } else {
        ++i;
      }
    }
}

void fail_delete_waiters(self_ptr self, const caf::error& err) {
  auto& st = self->state;
  for (auto* ws : {&st.delete_waiters, &st.change_waiters}) {
    for (auto& w : *ws) w.rp.deliver(err);
    ws->clear();
  }
  for (auto& [change, rp] : st.pending_changes) rp.deliver(err);
  st.pending_changes.clear();
}

/// Feeds one input to the machine and queues what it answers.
caf::error apply_input(self_ptr self, input_event ev) {
  auto& st = self->state;
  auto now = st.ctx->now();
  std::visit([now](auto& x) { x.at = now; }, ev);
  auto cmds = st.fsm->apply(ev);
  if (!cmds) return std::move(cmds.error());
  for (auto& cmd : *cmds) {
    if (std::holds_alternative<record_event>(cmd)) ++st.records_queued;
    st.backlog.push_back(std::move(cmd));
  }
  return caf::none;
}

void observe_batch(self_ptr self, const std::vector<deployment_event>& events,
                   const deployment_record& before) {
  auto* metrics = self->state.ctx->metrics;
  if (metrics == nullptr) return;
  auto started
    = before.operation ? std::optional<timestamp>{before.operation->started_at} : std::nullopt;
  for (const auto& ev : events) {
    if (std::holds_alternative<operation_started>(ev.data)) {
      started = ev.at;
    } else if (const auto* sc = std::get_if<status_changed>(&ev.data)) {
      if (sc->to == deployment_status::completed || sc->to == deployment_status::failed
          || sc->to == deployment_status::deleted) {
        double secs = started ? std::chrono::duration<double>(ev.at - *started).count() : 0.0;
        metrics->deployment_finished(lower(to_string(sc->to)), std::max(secs, 0.0));
      }
    }
  }
}

/// Commits every record_event of the backlog as one batch. The commands between them wait in
/// the backlog until the batch is stored; those before the first one are already `ready`.
void commit_front(self_ptr self) {
  auto& st = self->state;
  if (!st.in_flight) {
    std::vector<deployment_event> events;
    for (const auto& cmd : st.backlog)
      if (const auto* rec = std::get_if<record_event>(&cmd)) events.push_back(rec->event);
    persistence::event_batch fresh;
    fresh.state = fold(st.committed, events);
    fresh.state.epoch = st.epoch;
    fresh.snapshot = needs_snapshot(events, st.events_since_snapshot, st.ctx->cfg.snapshot_every);
    fresh.events = std::move(events);
    fresh.after_seq = st.last_seq;
    st.in_flight = std::move(fresh);
  }
  const auto& batch = *st.in_flight;
  st.committing = batch.events.size();
  self
    ->request(st.ctx->store(), st.ctx->cfg.store_timeout, append_atom::value, st.id, st.epoch,
              batch)
    .then(
      [=](int64_t last_seq) {
        auto& s = self->state;
        auto n = s.committing;
        s.last_seq = last_seq;
        s.in_flight.reset();
        observe_batch(self, batch.events, s.committed);
        s.committed = batch.state;
        s.committed.last_seq = last_seq;
        s.events_since_snapshot = batch.snapshot ? 0 : s.events_since_snapshot + int64_t(n);
        auto left = n;
        std::erase_if(s.backlog, [&left](const deployment_command& cmd) {
          if (left == 0 || !std::holds_alternative<record_event>(cmd)) return false;
          --left;
          return true;
        });
        s.records_committed += n;
        s.committing = 0;
        deliver_delete_waiters(self);
        launch_configure(self);
        pump(self);
      },
      [=](caf::error& err) {
        auto& s = self->state;
        if (is(err, errc::conflict)) {
          s.committing = 0;
          // Another owner claimed the deployment: it carries on, we stop.
          log()->warn("[d:{}] fenced out (epoch {}), stopping", s.log_id, s.epoch);
          fail_delete_waiters(self, make_error(errc::conflict, "deployment taken over"));
          self->quit();
          return;
        }
        log()->warn("[d:{}] commit failed ({}), retrying in {} ms", s.log_id,
                    self->system().render(err), s.ctx->cfg.store_retry_delay.count());
        // `committing` stays set: nothing else is committed meanwhile, and the batch goes
        // again only after the delay.
        self->delayed_send(self, s.ctx->cfg.store_retry_delay, commit_atom::value);
      });
}

caf::actor spawn_child(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto hdl = self->spawn(child_actor, caf::actor{self}, st.ctx, st.committed.cloud_region, st.id,
                         st.ctx->metrics);
  self->monitor(hdl);
  st.live->insert(hdl);
  st.child_of[hdl.address()] = key;
  auto& entry
    = st.children
        .try_emplace(key,
                     deployment_state::child_entry{{}, restart_budget{st.ctx->cfg.child_restarts}})
        .first->second;
  entry.hdl = hdl;
  return hdl;
}

void send_to_child(self_ptr self, uint64_t cmd_id, const std::string& key,
                   const deployment_command& cmd, bool reissue = false) {
  auto& st = self->state;
  auto i = st.children.find(key);
  auto hdl = i != st.children.end() && i->second.hdl ? i->second.hdl : spawn_child(self, key);
  auto crash_at = st.ctx->cfg.crash_child_on_command;
  auto n = st.ctx->child_commands.fetch_add(1) + 1;
  bool crash = crash_at > 0 && n >= crash_at && n < crash_at + st.ctx->cfg.crash_child_times;
  self->send(hdl, run_atom::value, cmd_id, cmd, crash, reissue);
}

/// How long the answer of `cmd` may take before the watchdog counts it as lost.
std::chrono::milliseconds deadline_of(const command_deadlines& d, const deployment_command& cmd) {
  // A resize or rebuild waits for the server as long as a boot does.
  if (std::holds_alternative<wait_server_active>(cmd) || std::holds_alternative<resize_server>(cmd)
      || std::holds_alternative<confirm_resize>(cmd) || std::holds_alternative<revert_resize>(cmd)
      || std::holds_alternative<rebuild_server>(cmd))
    return d.wait_server;
  if (std::holds_alternative<wait_volume_available>(cmd)
      || std::holds_alternative<attach_volume>(cmd) || std::holds_alternative<detach_volume>(cmd))
    return d.volume;
  if (std::holds_alternative<delete_resource>(cmd)
      || std::holds_alternative<remove_router_interface>(cmd)
      || std::holds_alternative<clear_router_gateway>(cmd))
    return d.remove;
  return d.create;
}

void schedule_tick(self_ptr self);

/// Brings the node's in-flight gauge up to date with this actor's running commands.
void report_in_flight(self_ptr self) {
  auto& st = self->state;
  auto* m = st.ctx->metrics;
  auto now = static_cast<int64_t>(st.running.size());
  if (m == nullptr || now == *st.in_flight_reported) return;
  m->commands_in_flight_changed(now - *st.in_flight_reported);
  *st.in_flight_reported = now;
}

void dispatch(self_ptr self, deployment_command cmd) {
  auto& st = self->state;
  auto cmd_id = st.next_command++;
  auto key = child_key(cmd);
  st.running.emplace(cmd_id, deployment_state::running_command{
                               cmd, key, std::chrono::steady_clock::now(), st.operation_generation,
                               self->clock().now() + deadline_of(st.ctx->cfg.deadlines, cmd), 0});
  report_in_flight(self);
  schedule_tick(self);
  if (!st.has_cloud) {
    self->send(
      self, result_atom::value, cmd_id,
      input_event{step_failed{kind_of(cmd),
                              logical_name_of(cmd),
                              "invalid_config",
                              "no cloud configured for region '" + st.committed.cloud_region + "'",
                              {}}});
    return;
  }
  send_to_child(self, cmd_id, key, cmd);
}

/// The watchdog's period: often enough to notice a lost answer soon after its deadline.
std::chrono::milliseconds tick_interval(const command_deadlines& d) {
  auto shortest = std::min({d.create, d.wait_server, d.volume, d.remove});
  return std::clamp(shortest / 10, std::chrono::milliseconds{10}, std::chrono::milliseconds{5'000});
}

void schedule_tick(self_ptr self) {
  auto& st = self->state;
  if (st.ticking) return;
  st.ticking = true;
  self->delayed_send(self, tick_interval(st.ctx->cfg.deadlines), tick_atom::value);
}

/// Commands whose answer is overdue were lost on the way (a crashed cloud actor, an exception
/// on the cloud's thread, a dropped message): they are idempotent, so they go again; after
/// `reissues` tries the step fails with `timeout`. A deployment is never busy for ever.
void on_tick(self_ptr self) {
  auto& st = self->state;
  st.ticking = false;
  // The actor's clock, simulated under tests; `started` is wall time for the metrics.
  auto now = self->clock().now();
  std::vector<uint64_t> overdue;
  for (const auto& [cmd_id, rc] : st.running)
    if (rc.deadline <= now) overdue.push_back(cmd_id);
  for (auto cmd_id : overdue) {
    auto& rc = st.running.at(cmd_id);
    auto name = logical_name_of(rc.cmd);
    auto waited = deadline_of(st.ctx->cfg.deadlines, rc.cmd);
    if (rc.reissues < st.ctx->cfg.deadlines.reissues) {
      ++rc.reissues;
      rc.deadline = now + waited;
      log()->warn("[d:{}] no answer for {} {} after {} ms, sending it again (try {})", st.log_id,
                  command_names[rc.cmd.index()], name, waited.count(), rc.reissues + 1);
      if (st.has_cloud) send_to_child(self, cmd_id, rc.child, rc.cmd, true);
      continue;
    }
    auto cmd = rc.cmd;
    st.running.erase(cmd_id);
    log()->error("[d:{}] no answer for {} {} after {} tries, failing the step", st.log_id,
                 command_names[cmd.index()], name, st.ctx->cfg.deadlines.reissues + 1);
    auto err = apply_input(self, step_failed{kind_of(cmd),
                                             name,
                                             "timeout",
                                             std::string{"no answer from the cloud for "}
                                               + command_names[cmd.index()] + " after "
                                               + std::to_string(waited.count()) + " ms",
                                             {}});
    if (err) log()->warn("[d:{}] {}", st.log_id, self->system().render(err));
  }
  if (!st.running.empty()) schedule_tick(self);
  if (!overdue.empty()) pump(self);
}

void schedule_idle(self_ptr self) {
  auto& st = self->state;
  auto gen = ++st.idle_generation;
  self->delayed_send(self, st.ctx->cfg.idle_timeout, idle_atom::value, gen);
}

bool is_wait(const deployment_command& cmd) {
  return std::holds_alternative<wait_server_active>(cmd)
         || std::holds_alternative<wait_volume_available>(cmd);
}

/// Whether `cmd` spends its time waiting on the batched poller: a wait, or a volume attach or
/// detach (one or two calls, then a wait for `in-use` or `available`). Such commands cost the
/// cloud next to nothing while they run and last as long as a boot, so they do not count
/// against `max_parallel_commands`: counted, 8 of them would hold up the rest of a 100-VM
/// deployment, one batch of 8 after the other. Their calls still queue on the cloud's governor.
bool is_unlimited(const deployment_command& cmd) {
  return is_wait(cmd) || std::holds_alternative<attach_volume>(cmd)
         || std::holds_alternative<detach_volume>(cmd);
}

/// Moves the work forward: commands no uncommitted record precedes become ready, the records
/// are committed, ready commands start up to the limit.
void pump(self_ptr self) {
  auto& st = self->state;
  // Every path that forgets a running command goes through here.
  report_in_flight(self);
  if (st.ph != deployment_state::phase::running) return;
  if (st.committing == 0)
    while (!st.backlog.empty() && !std::holds_alternative<record_event>(st.backlog.front())) {
      auto cmd = std::move(st.backlog.front());
      st.backlog.pop_front();
      if (is_unlimited(cmd))
        dispatch(self, std::move(cmd));
      else
        st.ready.push_back(std::move(cmd));
    }
  if (st.committing == 0 && !st.backlog.empty()) commit_front(self);
  auto limited
    = static_cast<size_t>(std::count_if(st.running.begin(), st.running.end(), [](const auto& kv) {
        return !is_unlimited(kv.second.cmd);
      }));
  for (; !st.ready.empty() && limited < st.ctx->cfg.max_parallel_commands; ++limited) {
    auto cmd = std::move(st.ready.front());
    st.ready.pop_front();
    dispatch(self, std::move(cmd));
  }
  if (st.backlog.empty() && st.ready.empty() && st.running.empty() && st.committing == 0)
    schedule_idle(self);
}

void begin_delete(self_ptr self) {
  auto& st = self->state;
  auto status = st.fsm->state().status;
  if (status == deployment_status::deleted) {
    fail_delete_waiters(self,
                        make_error(errc::not_found, "deployment " + st.log_id + " is deleted"));
    return;
  }
  if (status != deployment_status::deleting) {
    if (auto err = apply_input(self, start_delete{}); err) {
      fail_delete_waiters(self, err);
      return;
    }
    ++st.operation_generation;
    // The machine forgot the cancelled operation's waits: forget them too, so that their
    // answers are dropped when they come, and stop the cloud's polling for them.
    if (auto cloud = st.ctx->cloud_for(st.committed.cloud_region))
      for (const auto& [cmd_id, rc] : st.running)
        if (is_wait(rc.cmd)) self->send(cloud, cancel_atom::value, rc.cmd);
    std::erase_if(st.running, [](const auto& kv) { return is_wait(kv.second.cmd); });
    // A delete issues no waits, so every wait still queued belongs to the cancelled deploy.
    std::erase_if(st.ready, is_wait);
    std::erase_if(st.backlog, is_wait);
    if (st.configure) {
      // The run's answer will find no job and be dropped; the configurator records it
      // cancelled once ansible-runner stopped.
      if (st.configure->launched && st.ctx->configurator)
        self->send(st.ctx->configurator, cancel_atom::value, st.configure->run.id);
      else
        st.configure->rp.deliver(make_error(errc::conflict, "the deployment is being deleted"));
      st.configure.reset();
    }
  }
  for (auto& w : st.delete_waiters) w.after_records = st.records_queued;
  deliver_delete_waiters(self);
  pump(self);
}

/// Starts an update or a scale; answers `rp` once its first events are stored.
void begin_change(self_ptr self, const deployment_change& change, caf::response_promise rp) {
  auto& st = self->state;
  if (st.fsm->state().status == deployment_status::deleted) {
    rp.deliver(make_error(errc::not_found, "deployment " + st.log_id + " is deleted"));
    return;
  }
  // The actor is the only writer of its log, so this check and the events that follow it
  // cannot interleave with another change.
  auto version = st.records_queued == st.records_committed ? st.last_seq : -1;
  if (change.if_match && *change.if_match != version) {
    rp.deliver(make_error(errc::precondition_failed,
                          "deployment is at version " + std::to_string(st.last_seq)
                            + (version < 0 ? " with changes being stored" : "") + ", not "
                            + std::to_string(*change.if_match)));
    return;
  }
  if (auto err = apply_input(self, start_update{change.type, change.parameters, change.spec, {}})) {
    rp.deliver(std::move(err));
    return;
  }
  log()->info("[d:{}] {} accepted, generation {}", st.log_id, to_string(change.type),
              st.fsm->state().generation);
  st.change_waiters.push_back({std::move(rp), st.records_queued});
  pump(self);
}

void take_pending_changes(self_ptr self) {
  auto pending = std::move(self->state.pending_changes);
  self->state.pending_changes.clear();
  for (auto& [change, rp] : pending) begin_change(self, change, std::move(rp));
}

/// Ends the running operation as FAILED without the machine, which keeps crashing the actor:
/// the events go straight to the log, and the machine is rebuilt on top of them.
void give_up_operation(self_ptr self) {
  auto& st = self->state;
  auto status = st.committed.status;
  if (!is_busy(status)) return schedule_idle(self);
  auto now = st.ctx->now();
  operation_error error{"actor_crashed", "deployment actor crashed repeatedly: " + *st.give_up, {}};
  std::vector<deployment_event> events{
    deployment_event{0, now, error_reported{error}},
    deployment_event{0, now, operation_finished{operation_status::failed, error}},
    deployment_event{0, now, status_changed{status, deployment_status::failed}},
  };
  st.fsm.emplace(fold(st.committed, events), st.ctx->cfg.installation_id);
  for (auto& ev : events) {
    st.backlog.push_back(record_event{std::move(ev)});
    ++st.records_queued;
  }
  log()->error("[d:{}] giving up: {}", st.log_id, error.message);
  pump(self);
}

/// Checks a configure request against the deployment; fills `inv` with the hosts to run on.
caf::error check_configure(self_ptr self, const configure_request& req, ansible::inventory& inv) {
  auto& st = self->state;
  const auto& rec = st.fsm->state();
  if (rec.status != deployment_status::completed) {
    if (is_busy(rec.status) && rec.operation)
      return make_error(errc::conflict, "deployment is " + to_string(rec.status) + ": its "
                                          + to_string(rec.operation->type)
                                          + " operation must finish first");
    return make_error(errc::conflict,
                      "cannot configure a deployment that is " + to_string(rec.status));
  }
  if (!st.ctx->configurator)
    return make_error(errc::unavailable, "configuration runs are not set up");
  if (auto err = ansible::validate_playbook_name(req.playbook)) return err;
  if (!st.ctx->runner->has_playbook(req.playbook))
    return make_error(errc::invalid_spec,
                      "playbook: no playbook " + req.playbook + " in ANSIBLE_PLAYBOOK_DIR");
  if (req.inventory) {
    auto errors
      = ansible::validate_inventory(*req.inventory, ansible::vm_addresses(rec.resources.vms));
    if (!errors.empty()) {
      std::string detail;
      for (const auto& e : errors)
        detail += (detail.empty() ? "" : "; ") + e.field + ": " + e.message;
      return make_error(errc::invalid_spec, detail);
    }
    inv = *req.inventory;
  } else {
    inv = ansible::inventory_from_vms(rec.resources.vms);
    if (inv.empty())
      return make_error(errc::invalid_spec, "inventory: the deployment has no VM with an address");
  }
  return caf::none;
}

/// Records the configure operation; the run starts once it is committed (`launch_configure`).
void begin_configure(self_ptr self, configure_request req, caf::response_promise rp) {
  auto& st = self->state;
  ansible::inventory inv;
  if (auto err = check_configure(self, req, inv)) {
    rp.deliver(std::move(err));
    return;
  }
  if (auto err = apply_input(self, start_configure{})) {
    rp.deliver(std::move(err));
    return;
  }
  persistence::configuration_run run;
  run.id = uuid::random();
  run.deployment_id = st.id;
  run.playbook = std::move(req.playbook);
  run.inventory = std::move(inv);
  run.extra_vars = std::move(req.extra_vars);
  st.configure = deployment_state::configure_job{std::move(run), rp, st.records_queued, false};
  st.idle_generation++;
  pump(self);
}

void launch_configure(self_ptr self) {
  auto& st = self->state;
  if (!st.configure || st.configure->launched || st.records_committed < st.configure->after_records)
    return;
  st.configure->launched = true;
  auto run_id = st.configure->run.id;
  self
    ->request(st.ctx->configurator, st.ctx->cfg.store_timeout, configure_atom::value,
              st.configure->run, caf::actor{self})
    .then(
      [=](persistence::configuration_run& run) {
        auto& s = self->state;
        if (s.configure && s.configure->run.id == run_id) s.configure->rp.deliver(std::move(run));
      },
      [=](caf::error& err) {
        auto& s = self->state;
        if (!s.configure || s.configure->run.id != run_id) return;
        log()->warn("[d:{}] configuration run not started: {}", s.log_id,
                    self->system().render(err));
        s.configure->rp.deliver(err);
        s.configure.reset();
        // Nothing ran: the deployment is as it was, the operation failed.
        operation_error error{"configuration_failed",
                              "the run could not start: " + self->system().render(err), ""};
        if (auto e = apply_input(self, configure_finished{{}, false, true, error}))
          log()->warn("[d:{}] {}", s.log_id, self->system().render(e));
        pump(self);
      });
}

void on_configured(self_ptr self, const uuid& run_id, bool failed, const std::string& message) {
  auto& st = self->state;
  // A late answer of a run a delete cancelled: its deployment moved on.
  if (!st.configure || st.configure->run.id != run_id) return;
  st.configure.reset();
  std::optional<operation_error> error;
  if (failed) error = operation_error{"configuration_failed", message, ""};
  if (auto err = apply_input(self, configure_finished{{}, failed, false, error}))
    log()->warn("[d:{}] {}", st.log_id, self->system().render(err));
  pump(self);
}

/// A deployment loaded as CONFIGURING lost its run with the previous actor or process: its
/// result is unknown, so it is not run again silently; the operation fails and the deployment
/// returns to COMPLETED (a delete carries on instead).
void recover_configure(self_ptr self) {
  auto& st = self->state;
  if (st.ctx->configurator) self->send(st.ctx->configurator, interrupt_atom::value, st.id);
  if (st.delete_requested) return;
  operation_error error{"configuration_interrupted",
                        "the orchestrator restarted during the configuration run; its result is "
                        "unknown, run it again",
                        ""};
  log()->warn("[d:{}] configuration run interrupted by a restart", st.log_id);
  if (auto err = apply_input(self, configure_finished{{}, false, true, error}))
    log()->warn("[d:{}] {}", st.log_id, self->system().render(err));
}

void on_loaded(self_ptr self, persistence::stored_history hist) {
  auto& st = self->state;
  st.last_seq = hist.tail.empty() ? hist.snapshot_seq : hist.tail.back().seq;
  st.committed = fold(std::move(hist.snapshot), hist.tail);
  st.committed.epoch = st.epoch;
  st.committed.last_seq = st.last_seq;
  st.events_since_snapshot = static_cast<int64_t>(hist.tail.size());
  st.fsm.emplace(st.committed, st.ctx->cfg.installation_id);
  st.has_cloud = st.ctx->cloud_for(st.committed.cloud_region) != nullptr;
  st.ph = deployment_state::phase::running;
  if (st.give_up) {
    fail_delete_waiters(self,
                        make_error(errc::unavailable, "the deployment's actor keeps crashing"));
    return give_up_operation(self);
  }
  auto crash_at = st.ctx->cfg.crash_deployment_on_start;
  auto n = st.ctx->deployment_starts.fetch_add(1) + 1;
  if (crash_at > 0 && n >= crash_at && n < crash_at + st.ctx->cfg.crash_deployment_times)
    throw std::runtime_error("injected fault in deployment actor");
  log()->info("[d:{}] loaded at epoch {}, status {}", st.log_id, st.epoch,
              to_string(st.committed.status));
  if (st.committed.status == deployment_status::configuring) recover_configure(self);
  for (auto& [req, rp] : std::exchange(st.configure_requests, {})) {
    if (st.delete_requested)
      rp.deliver(make_error(errc::conflict, "the deployment is being deleted"));
    else
      begin_configure(self, std::move(req), rp);
  }
  if (st.delete_requested) {
    begin_delete(self);
    return take_pending_changes(self);
  }
  caf::error err;
  if (st.committed.status == deployment_status::pending)
    err = apply_input(self, start_deploy{});
  else if (is_busy(st.committed.status))
    err = apply_input(self, resume{});
  if (err) log()->error("[d:{}] cannot start: {}", st.log_id, self->system().render(err));
  take_pending_changes(self);
  pump(self);
}

/// Whether a failed claim or load is the database being away (wait and try again) rather than
/// something about this deployment.
bool is_store_outage(const caf::error& err) {
  return is(err, errc::store_unavailable) || err == caf::sec::request_timeout;
}

/// Claims and loads the deployment. While the database is unavailable it tries again with a
/// growing delay: that is no crash, and spending the restart budget on it would fail healthy
/// deployments during a database blip.
void start_loading(self_ptr self) {
  auto& st = self->state;
  auto id = st.id;
  auto abandon = [=](const char* what, caf::error& err) {
    auto& s = self->state;
    if (is_store_outage(err)) {
      auto delay = store_backoff(s.ctx->cfg, s.start_failures++);
      log()->warn("[d:{}] {} failed ({}), trying again in {} ms", s.log_id, what,
                  self->system().render(err), delay.count());
      self->delayed_send(self, delay, start_atom::value);
      return;
    }
    // Nothing was changed: quitting with the error lets the manager retry within its budget.
    log()->error("[d:{}] {} failed: {}", s.log_id, what, self->system().render(err));
    fail_delete_waiters(self, err);
    self->quit(err);
  };
  auto timeout = st.ctx->cfg.store_timeout;
  self->request(st.ctx->store(), timeout, claim_atom::value, id)
    .then(
      [=](int64_t epoch) {
        self->state.epoch = epoch;
        self->request(self->state.ctx->store(), timeout, load_atom::value, id)
          .then(
            [=](persistence::stored_history& hist) {
              self->state.start_failures = 0;
              on_loaded(self, std::move(hist));
            },
            [=](caf::error& err) { abandon("load", err); });
      },
      [=](caf::error& err) {
        if (is(err, errc::not_found)) {
          fail_delete_waiters(self, err);
          return self->quit();
        }
        if (is(err, errc::conflict)) {
          // Another node holds a live lease: it works on the deployment, we leave it alone.
          // Requests waiting here get a retryable answer (routing to the owner is not ours).
          log()->info("[d:{}] not claimed: {}", self->state.log_id, error_detail(err));
          fail_delete_waiters(self, make_error(errc::unavailable, error_detail(err)));
          return self->quit();
        }
        abandon("claim", err);
      });
}

void on_child_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto i = st.child_of.find(dm.source);
  if (i == st.child_of.end()) return;
  auto key = i->second;
  st.child_of.erase(i);
  auto& entry = st.children[key];
  st.live->erase(entry.hdl);
  entry.hdl = nullptr;
  if (!dm.reason || dm.reason == caf::exit_reason::user_shutdown) return;
  auto decision = entry.budget.on_failure(self->clock().now());
  auto why = self->system().render(dm.reason);
  if (decision.restart) {
    log()->warn("[d:{}] child {} crashed ({}), restarting in {} ms", st.log_id, key, why,
                decision.delay.count());
    if (st.ctx->metrics) st.ctx->metrics->actor_restarted("child");
    self->delayed_send(self, decision.delay, restart_atom::value, key);
    return;
  }
  log()->error("[d:{}] child {} crashed ({}) and its restart budget is spent", st.log_id, key, why);
  std::vector<uint64_t> lost;
  for (const auto& [cmd_id, rc] : st.running)
    if (rc.child == key) lost.push_back(cmd_id);
  for (auto cmd_id : lost) {
    auto cmd = st.running.at(cmd_id).cmd;
    st.running.erase(cmd_id);
    auto err = apply_input(self, step_failed{kind_of(cmd),
                                             logical_name_of(cmd),
                                             "actor_crashed",
                                             "actor " + key + " crashed repeatedly: " + why,
                                             {}});
    if (err) log()->warn("[d:{}] {}", st.log_id, self->system().render(err));
  }
  pump(self);
}

caf::behavior deployment_actor(self_ptr self, context_ptr ctx, uuid id,
                               std::optional<std::string> give_up) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.give_up = std::move(give_up);
  st.id = id;
  st.log_id = to_string(id);
  if (auto* m = st.ctx->metrics) {
    m->actor_started("deployment");
    self->attach_functor([m, reported = st.in_flight_reported](const caf::error&) {
      m->actor_stopped("deployment");
      m->commands_in_flight_changed(-*reported);
    });
  }
  self->attach_functor([live = st.live](const caf::error&) {
    for (const auto& c : *live) caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  });
  self->set_down_handler([=](caf::down_msg& dm) { on_child_down(self, dm); });
  self->set_error_handler([=](caf::error& err) {
    log()->warn("[d:{}] stray error: {}", self->state.log_id, self->system().render(err));
  });
  start_loading(self);
  return {
    [=](result_atom, uint64_t cmd_id, input_event& ev) {
      auto& s = self->state;
      auto i = s.running.find(cmd_id);
      if (i == s.running.end()) return; // answered before (re-issued after a crash)
      if (auto* m = s.ctx->metrics)
        m->workflow_finished(
          command_names[i->second.cmd.index()],
          std::chrono::duration<double>(std::chrono::steady_clock::now() - i->second.started)
            .count());
      bool stale = i->second.generation != s.operation_generation && is_wait(i->second.cmd);
      s.running.erase(i);
      if (stale) return pump(self);
      if (auto err = apply_input(self, std::move(ev)); err)
        log()->debug("[d:{}] result ignored: {}", s.log_id, self->system().render(err));
      pump(self);
    },
    [=](caf::delete_atom) -> caf::result<deployment_record> {
      auto& s = self->state;
      auto rp = self->make_response_promise();
      s.delete_waiters.push_back({rp, UINT64_MAX});
      if (s.ph == deployment_state::phase::loading)
        s.delete_requested = true;
      else
        begin_delete(self);
      return caf::delegated<deployment_record>{};
    },
    [=](update_atom, deployment_change& change) -> caf::result<deployment_record> {
      auto& s = self->state;
      auto rp = self->make_response_promise();
      if (s.ph == deployment_state::phase::loading)
        s.pending_changes.emplace_back(std::move(change), rp);
      else
        begin_change(self, change, rp);
      return caf::delegated<deployment_record>{};
    },
    [=](configure_atom, configure_request& req) -> caf::result<persistence::configuration_run> {
      auto& s = self->state;
      auto rp = self->make_response_promise();
      if (s.ph == deployment_state::phase::loading)
        s.configure_requests.emplace_back(std::move(req), rp);
      else
        begin_configure(self, std::move(req), rp);
      return caf::delegated<persistence::configuration_run>{};
    },
    [=](configured_atom, const uuid& run_id, bool failed, const std::string& message) {
      on_configured(self, run_id, failed, message);
    },
    [=](commit_atom) {
      auto& s = self->state;
      if (s.in_flight)
        commit_front(self);
      else
        pump(self);
    },
    [=](tick_atom) { on_tick(self); },
    [=](start_atom) {
      if (self->state.ph == deployment_state::phase::loading) start_loading(self);
    },
    [=](restart_atom, const std::string& key) {
      auto& s = self->state;
      std::vector<std::pair<uint64_t, deployment_command>> again;
      for (const auto& [cmd_id, rc] : s.running)
        if (rc.child == key) again.emplace_back(cmd_id, rc.cmd);
      for (const auto& [cmd_id, cmd] : again) send_to_child(self, cmd_id, key, cmd);
    },
    [=](idle_atom, uint64_t gen) {
      auto& s = self->state;
      if (gen != s.idle_generation || !s.backlog.empty() || !s.ready.empty() || !s.running.empty()
          || s.committing > 0 || !s.delete_waiters.empty() || !s.change_waiters.empty()
          || !s.pending_changes.empty() || s.configure)
        return;
      log()->debug("[d:{}] idle, passivating", s.log_id);
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_deployment(caf::actor_system& sys, context_ptr ctx, uuid id,
                            std::optional<std::string> give_up) {
  return sys.spawn(deployment_actor, std::move(ctx), id, std::move(give_up));
}

} // namespace orch::actors
