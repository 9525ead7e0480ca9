#include <deque>
#include <set>
#include <utility>

#include "orch/errc.hpp"
#include "orch/logging.hpp"
#include "runtime.hpp"

namespace orch::actors {

timestamp engine_context::now() const {
  if (cfg.wall_clock) return cfg.wall_clock();
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

caf::actor engine_context::store() {
  std::lock_guard guard{actors_mtx};
  return stores[next_store.fetch_add(1) % stores.size()];
}

caf::actor engine_context::cloud_for(const std::string& region) const {
  std::lock_guard guard{actors_mtx};
  if (auto i = clouds.find(region); i != clouds.end()) return i->second;
  if (clouds.size() == 1) return clouds.begin()->second;
  return {};
}

namespace {

std::shared_ptr<spdlog::logger> log() {
  return orch::logger("orch.actors");
}

template <class T>
caf::result<T> lift(caf::expected<T>&& x) {
  if (x) return std::move(*x);
  return std::move(x.error());
}

/// Runs `f` on the repository; an exception (a bug in an adapter) becomes
/// `store_unavailable` instead of killing the store actor.
template <class F>
auto guarded(F f) -> decltype(lift(f())) {
  try {
    return lift(f());
  } catch (const std::exception& e) {
    return make_error(errc::store_unavailable, e.what());
  }
}

/// One store actor: the only place where the blocking repository is called. Spawned
/// detached in production, so a slow query blocks only its own thread.
caf::behavior store_actor(caf::event_based_actor*, persistence::deployment_repository* repo,
                          persistence::lease_terms lease, actor_metrics* metrics) {
  return {
    [=](claim_atom, const uuid& id) -> caf::result<int64_t> {
      return guarded([&]() -> caf::expected<int64_t> {
        auto grant = repo->claim(id, lease);
        if (!grant) return std::move(grant.error());
        if (!grant->taken_from.empty()) {
          log()->info("[d:{}] took over the expired lease of node {} (epoch {})", to_string(id),
                      grant->taken_from, grant->epoch);
          if (metrics) metrics->lease_taken_over();
        }
        return grant->epoch;
      });
    },
    [=](load_atom, const uuid& id) -> caf::result<persistence::stored_history> {
      return guarded([&] { return repo->load(id); });
    },
    [=](append_atom, const uuid& id, int64_t epoch,
        const persistence::event_batch& batch) -> caf::result<int64_t> {
      return guarded([&] { return repo->append_events(id, epoch, batch); });
    },
    [=](unfinished_atom) -> caf::result<uuid_list> {
      return guarded([&] { return repo->list_unfinished(lease.node_id); });
    },
  };
}

/// The cloud of one region. Commands for the same resource of the same deployment run one
/// after the other, so a create re-issued after a crash starts only when the first attempt
/// has ended, and then finds its resource by tag instead of making a second one.
struct cloud_state {
  static inline const char* name = "cloud";

  struct queued {
    caf::actor reply_to;
    uint64_t cmd_id = 0;
    uuid deployment;
    deployment_command cmd;
  };

  struct slot {
    /// Identifies the command running for the key; a `done` of an older one is stale.
    uint64_t running = 0;
    std::deque<queued> waiting;
  };

  std::shared_ptr<cloud_commands> commands;
  /// Resource key -> the command running and those waiting behind it.
  std::map<std::string, slot> busy;
  uint64_t next_run = 1;
};

void cloud_start(caf::stateful_actor<cloud_state>* self, const std::string& key,
                 cloud_state::queued q) {
  auto run = self->state.next_run++;
  self->state.busy[key].running = run;
  self->state.commands->run(
    q.deployment, std::move(q.cmd),
    [me = caf::actor{self}, reply_to = q.reply_to, cmd_id = q.cmd_id, key, run](input_event ev) {
      // Called from the cloud's executor: anon_send is safe from any thread.
      caf::anon_send(reply_to, result_atom::value, cmd_id, std::move(ev));
      caf::anon_send(me, done_atom::value, key, run);
    });
}

caf::behavior cloud_actor(caf::stateful_actor<cloud_state>* self,
                          std::shared_ptr<cloud_commands> commands, actor_metrics* metrics) {
  self->state.commands = std::move(commands);
  if (metrics) {
    metrics->actor_started("cloud");
    self->attach_functor([metrics](const caf::error&) { metrics->actor_stopped("cloud"); });
  }
  return {
    // `reissue`: the deployment's watchdog gave up on the answer of an earlier attempt. That
    // attempt's callback never ran (it would have answered), so it no longer holds its key.
    [=](run_atom, uint64_t cmd_id, const uuid& deployment, deployment_command& cmd, bool reissue) {
      cloud_state::queued q{caf::actor_cast<caf::actor>(self->current_sender()), cmd_id, deployment,
                            std::move(cmd)};
      // Waits only read: they never hold up the deletes that may replace them.
      if (std::holds_alternative<wait_server_active>(q.cmd)
          || std::holds_alternative<wait_volume_available>(q.cmd)) {
        auto reply_to = q.reply_to;
        self->state.commands->run(deployment, std::move(q.cmd), [reply_to, cmd_id](input_event ev) {
          caf::anon_send(reply_to, result_atom::value, cmd_id, std::move(ev));
        });
        return;
      }
      auto key = to_string(deployment) + "/" + logical_name_of(q.cmd);
      auto [i, fresh] = self->state.busy.try_emplace(key);
      if (!fresh && !reissue) {
        i->second.waiting.push_back(std::move(q));
        return;
      }
      cloud_start(self, key, std::move(q));
    },
    [=](cancel_atom, const deployment_command& cmd) { self->state.commands->cancel(cmd); },
    [=](done_atom, const std::string& key, uint64_t run) {
      auto i = self->state.busy.find(key);
      if (i == self->state.busy.end() || i->second.running != run) return;
      if (i->second.waiting.empty()) {
        self->state.busy.erase(i);
        return;
      }
      auto next = std::move(i->second.waiting.front());
      i->second.waiting.pop_front();
      cloud_start(self, key, std::move(next));
    },
  };
}

/// The node's supervisor of deployment actors: starts them on demand, restarts a crashed one
/// from its snapshot within the restart budget, and routes deletes to them.
struct manager_state {
  static inline const char* name = "deployment_manager";

  context_ptr ctx;
  std::map<uuid, caf::actor> deployments;
  std::map<caf::actor_addr, uuid> by_addr;
  /// Starts waiting for a free slot (`max_active_deployments`), oldest first.
  std::deque<uuid> waiting;
  std::set<uuid> queued;
  std::map<uuid, restart_budget> budgets;
  std::shared_ptr<std::set<caf::actor>> live = std::make_shared<std::set<caf::actor>>();
  /// Store and cloud actors this manager supervises: address -> store index or region.
  std::map<caf::actor_addr, size_t> store_of;
  std::map<caf::actor_addr, std::string> cloud_of;
  /// Consecutive failed listings of unfinished deployments.
  int sweep_failures = 0;
};

using manager_ptr = caf::stateful_actor<manager_state>*;

void report_waiting(manager_ptr self) {
  if (auto* m = self->state.ctx->metrics) m->deployments_waiting(self->state.waiting.size());
}

caf::actor spawn_running(manager_ptr self, const uuid& id,
                         std::optional<std::string> give_up = std::nullopt) {
  auto& st = self->state;
  if (auto i = st.deployments.find(id); i != st.deployments.end()) return i->second;
  if (st.queued.erase(id) > 0) {
    std::erase(st.waiting, id);
    report_waiting(self);
  }
  auto hdl = spawn_deployment(self->system(), st.ctx, id, std::move(give_up));
  self->monitor(hdl);
  st.live->insert(hdl);
  st.deployments[id] = hdl;
  st.by_addr[hdl.address()] = id;
  return hdl;
}

/// Starts the deployment's actor if a slot is free, else queues the start.
void admit(manager_ptr self, const uuid& id) {
  auto& st = self->state;
  if (st.deployments.count(id) > 0 || st.queued.count(id) > 0) return;
  if (st.deployments.size() < std::max<std::size_t>(st.ctx->cfg.max_active_deployments, 1)) {
    spawn_running(self, id);
    return;
  }
  st.waiting.push_back(id);
  st.queued.insert(id);
  report_waiting(self);
}

/// Fills the slots freed by stopped actors from the queue.
void admit_waiting(manager_ptr self) {
  auto& st = self->state;
  auto limit = std::max<std::size_t>(st.ctx->cfg.max_active_deployments, 1);
  while (!st.waiting.empty() && st.deployments.size() < limit) {
    auto id = st.waiting.front();
    st.waiting.pop_front();
    st.queued.erase(id);
    spawn_running(self, id);
  }
  report_waiting(self);
}

void forward_configure(manager_ptr self, const uuid& id, configure_request req,
                       caf::response_promise rp, bool retry) {
  // Like a delete, a configure answers its caller: it never waits for a slot.
  auto hdl = spawn_running(self, id);
  self->request(hdl, self->state.ctx->cfg.store_timeout * 2, configure_atom::value, req)
    .then([=](persistence::configuration_run& run) mutable { rp.deliver(std::move(run)); },
          [=](caf::error& err) mutable {
            if (retry && err == caf::sec::request_receiver_down) {
              auto& st = self->state;
              if (auto i = st.deployments.find(id); i != st.deployments.end() && i->second == hdl)
                st.deployments.erase(i);
              return forward_configure(self, id, req, rp, false);
            }
            rp.deliver(std::move(err));
          });
}

void forward_delete(manager_ptr self, const uuid& id, caf::response_promise rp, bool retry) {
  // A delete answers its caller: it never waits for a slot.
  auto hdl = spawn_running(self, id);
  self->request(hdl, self->state.ctx->cfg.store_timeout * 2, caf::delete_atom::value)
    .then([=](deployment_record& rec) mutable { rp.deliver(std::move(rec)); },
          [=](caf::error& err) mutable {
            // The actor may have passivated just before our request arrived: start it again.
            if (retry && err == caf::sec::request_receiver_down) {
              auto& st = self->state;
              if (auto i = st.deployments.find(id); i != st.deployments.end() && i->second == hdl)
                st.deployments.erase(i);
              return forward_delete(self, id, rp, false);
            }
            rp.deliver(std::move(err));
          });
}

void forward_update(manager_ptr self, const uuid& id, deployment_change change,
                    caf::response_promise rp, bool retry) {
  // Like a delete, a change answers its caller: it never waits for a slot.
  auto hdl = spawn_running(self, id);
  self->request(hdl, self->state.ctx->cfg.store_timeout * 2, update_atom::value, change)
    .then([=](deployment_record& rec) mutable { rp.deliver(std::move(rec)); },
          [=](caf::error& err) mutable {
            if (retry && err == caf::sec::request_receiver_down) {
              auto& st = self->state;
              if (auto i = st.deployments.find(id); i != st.deployments.end() && i->second == hdl)
                st.deployments.erase(i);
              return forward_update(self, id, change, rp, false);
            }
            rp.deliver(std::move(err));
          });
}

caf::actor spawn_store(caf::actor_system& sys, const engine_context& ctx) {
  return ctx.cfg.detached_store
           ? sys.spawn<caf::detached>(store_actor, ctx.repository, ctx.cfg.lease, ctx.metrics)
           : sys.spawn(store_actor, ctx.repository, ctx.cfg.lease, ctx.metrics);
}

void supervise_services(manager_ptr self) {
  auto& st = self->state;
  std::lock_guard guard{st.ctx->actors_mtx};
  for (size_t i = 0; i < st.ctx->stores.size(); ++i) {
    self->monitor(st.ctx->stores[i]);
    st.store_of[st.ctx->stores[i].address()] = i;
  }
  for (const auto& [region, hdl] : st.ctx->clouds) {
    self->monitor(hdl);
    st.cloud_of[hdl.address()] = region;
  }
}

/// A store or cloud actor went down: one that crashed is replaced, so deployments keep a way
/// to the database and the cloud. Their commands in flight answer anyway (the cloud's work runs
/// on its own executor); queued ones are noticed by each deployment's watchdog.
bool on_service_down(manager_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto store = st.store_of.find(dm.source);
  auto cloud = st.cloud_of.find(dm.source);
  if (store == st.store_of.end() && cloud == st.cloud_of.end()) return false;
  bool crashed = dm.reason && dm.reason != caf::exit_reason::user_shutdown;
  auto why = self->system().render(dm.reason);
  if (store != st.store_of.end()) {
    auto index = store->second;
    st.store_of.erase(store);
    if (!crashed) return true;
    log()->error("store actor {} crashed ({}), replacing it", index, why);
    auto hdl = spawn_store(self->system(), *st.ctx);
    self->monitor(hdl);
    st.store_of[hdl.address()] = index;
    std::lock_guard guard{st.ctx->actors_mtx};
    st.ctx->stores[index] = hdl;
    if (st.ctx->metrics) st.ctx->metrics->actor_restarted("store");
    return true;
  }
  auto region = cloud->second;
  st.cloud_of.erase(cloud);
  if (!crashed) return true;
  log()->error("cloud actor of region {} crashed ({}), replacing it", region, why);
  auto hdl = self->system().spawn(cloud_actor, st.ctx->cloud_impls.at(region), st.ctx->metrics);
  self->monitor(hdl);
  st.cloud_of[hdl.address()] = region;
  std::lock_guard guard{st.ctx->actors_mtx};
  st.ctx->clouds[region] = hdl;
  if (st.ctx->metrics) st.ctx->metrics->actor_restarted("cloud");
  return true;
}

/// Lists the unfinished deployments and starts those without an actor: at start, then every
/// `resume_sweep_interval`, so a deployment whose actor is gone for any reason (a failed
/// listing at start, a bug) is picked up again. A failed listing is retried sooner.
void sweep_unfinished(manager_ptr self) {
  auto& cfg = self->state.ctx->cfg;
  self->request(self->state.ctx->store(), cfg.store_timeout, unfinished_atom::value)
    .then(
      [=](const uuid_list& ids) {
        auto& st = self->state;
        size_t started = 0;
        for (const auto& id : ids)
          if (st.deployments.count(id) == 0 && st.queued.count(id) == 0) {
            admit(self, id);
            ++started;
          }
        if (started > 0 || st.sweep_failures > 0)
          log()->info("resuming {} unfinished deployment(s)", started);
        st.sweep_failures = 0;
        if (st.ctx->cfg.resume_sweep_interval.count() > 0)
          self->delayed_send(self, st.ctx->cfg.resume_sweep_interval, sweep_atom::value);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        auto delay = store_backoff(st.ctx->cfg, st.sweep_failures++);
        log()->error("cannot list unfinished deployments ({}), trying again in {} ms",
                     self->system().render(err), delay.count());
        self->delayed_send(self, delay, sweep_atom::value);
      });
}

/// Stops the actors of `ids` (lost leases) and drops their queued starts; a plain exit, so the
/// down handler restarts none of them. The periodic sweep brings a deployment back here only
/// if its lease becomes free or expires again.
void stop_deployments(manager_ptr self, const uuid_list& ids) {
  auto& st = self->state;
  for (const auto& id : ids) {
    if (st.queued.erase(id) > 0) std::erase(st.waiting, id);
    if (auto i = st.deployments.find(id); i != st.deployments.end()) {
      log()->warn("[d:{}] lease lost, stopping its actor", to_string(id));
      caf::anon_send_exit(i->second, caf::exit_reason::user_shutdown);
    }
  }
  report_waiting(self);
}

caf::behavior manager_actor(manager_ptr self, context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  supervise_services(self);
  self->attach_functor([live = self->state.live](const caf::error&) {
    for (const auto& d : *live) caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  });
  self->set_default_handler(
    [=](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      log()->warn("deployment manager: unexpected message {}", x.content().stringify());
      if (self->current_message_id().is_request()) return caf::sec::unexpected_message;
      return caf::message{};
    });
  self->set_error_handler([=](caf::error& err) {
    log()->warn("deployment manager: stray error {}", self->system().render(err));
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (on_service_down(self, dm)) return;
    auto i = st.by_addr.find(dm.source);
    if (i == st.by_addr.end()) return;
    auto id = i->second;
    st.by_addr.erase(i);
    if (auto j = st.deployments.find(id); j != st.deployments.end() && j->second == dm.source) {
      st.live->erase(j->second);
      st.deployments.erase(j);
    }
    admit_waiting(self);
    if (!dm.reason || dm.reason == caf::exit_reason::user_shutdown) return;
    auto& budget = st.budgets.try_emplace(id, st.ctx->cfg.deployment_restarts).first->second;
    auto decision = budget.on_failure(self->clock().now());
    auto why = self->system().render(dm.reason);
    if (!decision.restart) {
      // Escalate instead of looping: one more actor only records the failure.
      log()->error("[d:{}] deployment actor crashed ({}); restart budget spent, failing it",
                   to_string(id), why);
      st.budgets.erase(id);
      spawn_running(self, id, why);
      return;
    }
    log()->warn("[d:{}] deployment actor crashed ({}), restarting from its snapshot in {} ms",
                to_string(id), why, decision.delay.count());
    if (st.ctx->metrics) st.ctx->metrics->actor_restarted("deployment");
    self->delayed_send(self, decision.delay, restart_atom::value, id);
  });
  return {
    [=](start_atom, const uuid& id) { admit(self, id); },
    // A crashed actor gets its slot back at once: it was running already.
    [=](restart_atom, const uuid& id) { spawn_running(self, id); },
    [=](caf::delete_atom, const uuid& id) -> caf::result<deployment_record> {
      forward_delete(self, id, self->make_response_promise(), true);
      return caf::delegated<deployment_record>{};
    },
    [=](update_atom, const uuid& id, deployment_change& change) -> caf::result<deployment_record> {
      forward_update(self, id, std::move(change), self->make_response_promise(), true);
      return caf::delegated<deployment_record>{};
    },
    [=](sweep_atom) { sweep_unfinished(self); },
    [=](running_atom) -> uuid_list {
      auto& st = self->state;
      uuid_list out;
      for (const auto& [id, hdl] : st.deployments) out.push_back(id);
      out.insert(out.end(), st.waiting.begin(), st.waiting.end());
      return out;
    },
    [=](stop_atom, const uuid_list& ids) { stop_deployments(self, ids); },
    [=](stop_atom) {
      uuid_list all;
      for (const auto& [id, hdl] : self->state.deployments) all.push_back(id);
      all.insert(all.end(), self->state.waiting.begin(), self->state.waiting.end());
      stop_deployments(self, all);
    },
    [=](configure_atom, const uuid& id,
        configure_request& req) -> caf::result<persistence::configuration_run> {
      forward_configure(self, id, std::move(req), self->make_response_promise(), true);
      return caf::delegated<persistence::configuration_run>{};
    },
  };
}

/// Errors the gateway maps: our own category passes, CAF's (receiver down, timeout) mean the
/// engine cannot answer now.
caf::error to_engine_error(caf::actor_system& sys, caf::error err) {
  if (err.category() == caf::atom("orch")) return err;
  return make_error(errc::unavailable, sys.render(err));
}

class engine_impl : public node_engine {
public:
  engine_impl(caf::actor_system& sys, context_ptr ctx, caf::actor manager)
    : sys_(sys), ctx_(std::move(ctx)), manager_(std::move(manager)) {
    // nop
  }

  ~engine_impl() override {
    caf::anon_send_exit(manager_, caf::exit_reason::user_shutdown);
    std::lock_guard guard{ctx_->actors_mtx};
    for (const auto& s : ctx_->stores) caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    for (const auto& [region, c] : ctx_->clouds)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    if (ctx_->configurator)
      caf::anon_send_exit(ctx_->configurator, caf::exit_reason::user_shutdown);
  }

  void start(const uuid& id) override { caf::anon_send(manager_, start_atom::value, id); }

  void remove(const uuid& id, engine_callback<deployment_record> done) override {
    ask_manager<deployment_record>(std::move(done), caf::delete_atom::value, id);
  }

  void update(const uuid& id, deployment_change change,
              engine_callback<deployment_record> done) override {
    ask_manager<deployment_record>(std::move(done), update_atom::value, id, std::move(change));
  }

  void configure(const uuid& id, configure_request req,
                 engine_callback<persistence::configuration_run> done) override {
    if (!ctx_->configurator)
      return done(make_error(errc::unavailable, "configuration runs are not set up "
                                                "(ANSIBLE_PLAYBOOK_DIR, ansible-runner)"));
    ask_manager<persistence::configuration_run>(std::move(done), configure_atom::value, id,
                                                std::move(req));
  }

  void running(engine_callback<std::vector<uuid>> done) override {
    ask_manager<uuid_list>(std::move(done), running_atom::value);
  }

  void stop(std::vector<uuid> ids) override {
    caf::anon_send(manager_, stop_atom::value, uuid_list{std::move(ids)});
  }

  void stop_all() override { caf::anon_send(manager_, stop_atom::value); }

private:
  // Asks the manager from a short-lived actor of its own, so a caller outside the actor system
  // gets its answer (or the error) through `done`, at most within three store timeouts.
  template <class Answer, class... Ts>
  void ask_manager(engine_callback<Answer> done, Ts... xs) {
    auto timeout = ctx_->cfg.store_timeout * 3;
    auto& sys = sys_;
    sys_.spawn([=, &sys, mgr = manager_](caf::event_based_actor* self) {
      self->request(mgr, timeout, xs...)
        .then(
          [=](Answer& answer) {
            done(std::move(answer));
            self->quit();
          },
          [=, &sys](caf::error& err) {
            done(to_engine_error(sys, std::move(err)));
            self->quit();
          });
    });
  }

  caf::actor_system& sys_;
  context_ptr ctx_;
  caf::actor manager_;
};

} // namespace

void deployment_engine::configure(const uuid&, configure_request,
                                  engine_callback<persistence::configuration_run> done) {
  done(make_error(errc::unavailable, "this engine runs no configurations"));
}

std::unique_ptr<node_engine> spawn_deployment_engine(caf::actor_system& sys, engine_config cfg,
                                                     engine_deps deps) {
  auto ctx = std::make_shared<engine_context>();
  ctx->cfg = std::move(cfg);
  ctx->metrics = deps.metrics;
  ctx->repository = &deps.repository;
  ctx->cloud_impls = deps.clouds;
  auto workers = std::max<std::size_t>(ctx->cfg.store_workers, 1);
  for (std::size_t i = 0; i < workers; ++i) ctx->stores.push_back(spawn_store(sys, *ctx));
  for (auto& [region, commands] : deps.clouds)
    ctx->clouds.emplace(region, sys.spawn(cloud_actor, commands, deps.metrics));
  if (deps.configuration_runs != nullptr && deps.runner) {
    ctx->runner = deps.runner;
    ctx->configurator = spawn_configurator(sys, *deps.configuration_runs, deps.runner, deps.metrics,
                                           ctx->cfg.detached_store);
  }
  auto manager = sys.spawn(manager_actor, ctx);
  if (ctx->cfg.resume_unfinished) caf::anon_send(manager, sweep_atom::value);
  return std::make_unique<engine_impl>(sys, std::move(ctx), std::move(manager));
}

} // namespace orch::actors
