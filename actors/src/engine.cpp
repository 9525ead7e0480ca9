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
  return stores[next_store.fetch_add(1) % stores.size()];
}

caf::actor engine_context::cloud_for(const std::string& region) const {
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
caf::behavior store_actor(caf::event_based_actor*, persistence::deployment_repository* repo) {
  return {
    [=](claim_atom, const uuid& id) -> caf::result<int64_t> {
      return guarded([&] { return repo->claim(id); });
    },
    [=](load_atom, const uuid& id) -> caf::result<persistence::stored_history> {
      return guarded([&] { return repo->load(id); });
    },
    [=](append_atom, const uuid& id, int64_t epoch,
        const persistence::event_batch& batch) -> caf::result<int64_t> {
      return guarded([&] { return repo->append_events(id, epoch, batch); });
    },
    [=](unfinished_atom) -> caf::result<uuid_list> {
      return guarded([&] { return repo->list_unfinished(); });
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
    deployment_command cmd;
  };

  std::shared_ptr<cloud_commands> commands;
  /// Resource key -> commands waiting behind the one running.
  std::map<std::string, std::deque<queued>> busy;
};

void cloud_start(caf::stateful_actor<cloud_state>* self, const std::string& key,
                 cloud_state::queued q) {
  self->state.commands->run(std::move(q.cmd), [me = caf::actor{self}, reply_to = q.reply_to,
                                               cmd_id = q.cmd_id, key](input_event ev) {
    // Called from the cloud's executor: anon_send is safe from any thread.
    caf::anon_send(reply_to, result_atom::value, cmd_id, std::move(ev));
    caf::anon_send(me, done_atom::value, key);
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
    [=](run_atom, uint64_t cmd_id, const uuid& deployment, deployment_command& cmd) {
      cloud_state::queued q{caf::actor_cast<caf::actor>(self->current_sender()), cmd_id,
                            std::move(cmd)};
      // Waits only read: they never hold up the deletes that may replace them.
      if (std::holds_alternative<wait_server_active>(q.cmd)
          || std::holds_alternative<wait_volume_available>(q.cmd)) {
        auto reply_to = q.reply_to;
        self->state.commands->run(std::move(q.cmd), [reply_to, cmd_id](input_event ev) {
          caf::anon_send(reply_to, result_atom::value, cmd_id, std::move(ev));
        });
        return;
      }
      auto key = to_string(deployment) + "/" + logical_name_of(q.cmd);
      auto [i, fresh] = self->state.busy.try_emplace(key);
      if (!fresh) {
        i->second.push_back(std::move(q));
        return;
      }
      cloud_start(self, key, std::move(q));
    },
    [=](done_atom, const std::string& key) {
      auto i = self->state.busy.find(key);
      if (i == self->state.busy.end()) return;
      if (i->second.empty()) {
        self->state.busy.erase(i);
        return;
      }
      auto next = std::move(i->second.front());
      i->second.pop_front();
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

caf::behavior manager_actor(manager_ptr self, context_ptr ctx) {
  self->state.ctx = std::move(ctx);
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
    [=](unfinished_atom) {
      self
        ->request(self->state.ctx->store(), self->state.ctx->cfg.store_timeout,
                  unfinished_atom::value)
        .then(
          [=](const uuid_list& ids) {
            log()->info("resuming {} unfinished deployment(s)", ids.size());
            for (const auto& id : ids) admit(self, id);
          },
          [=](caf::error& err) {
            log()->error("cannot list unfinished deployments: {}", self->system().render(err));
          });
    },
  };
}

/// Errors the gateway maps: our own category passes, CAF's (receiver down, timeout) mean the
/// engine cannot answer now.
caf::error to_engine_error(caf::actor_system& sys, caf::error err) {
  if (err.category() == caf::atom("orch")) return err;
  return make_error(errc::unavailable, sys.render(err));
}

class engine_impl : public deployment_engine {
public:
  engine_impl(caf::actor_system& sys, context_ptr ctx, caf::actor manager)
    : sys_(sys), ctx_(std::move(ctx)), manager_(std::move(manager)) {
    // nop
  }

  ~engine_impl() override {
    caf::anon_send_exit(manager_, caf::exit_reason::user_shutdown);
    for (const auto& s : ctx_->stores) caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    for (const auto& [region, c] : ctx_->clouds)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  }

  void start(const uuid& id) override { caf::anon_send(manager_, start_atom::value, id); }

  void remove(const uuid& id, engine_callback<deployment_record> done) override {
    auto timeout = ctx_->cfg.store_timeout * 3;
    auto& sys = sys_;
    sys_.spawn([=, &sys, mgr = manager_](caf::event_based_actor* self) {
      self->request(mgr, timeout, caf::delete_atom::value, id)
        .then(
          [=](deployment_record& rec) {
            done(std::move(rec));
            self->quit();
          },
          [=, &sys](caf::error& err) {
            done(to_engine_error(sys, std::move(err)));
            self->quit();
          });
    });
  }

private:
  caf::actor_system& sys_;
  context_ptr ctx_;
  caf::actor manager_;
};

} // namespace

std::unique_ptr<deployment_engine> spawn_deployment_engine(caf::actor_system& sys,
                                                           engine_config cfg, engine_deps deps) {
  auto ctx = std::make_shared<engine_context>();
  ctx->cfg = std::move(cfg);
  ctx->metrics = deps.metrics;
  auto workers = std::max<std::size_t>(ctx->cfg.store_workers, 1);
  for (std::size_t i = 0; i < workers; ++i)
    ctx->stores.push_back(ctx->cfg.detached_store
                            ? sys.spawn<caf::detached>(store_actor, &deps.repository)
                            : sys.spawn(store_actor, &deps.repository));
  for (auto& [region, commands] : deps.clouds)
    ctx->clouds.emplace(region, sys.spawn(cloud_actor, commands, deps.metrics));
  auto manager = sys.spawn(manager_actor, ctx);
  if (ctx->cfg.resume_unfinished) caf::anon_send(manager, unfinished_atom::value);
  return std::make_unique<engine_impl>(sys, std::move(ctx), std::move(manager));
}

} // namespace orch::actors
