#include "orch/actors/orphan_finder.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <utility>

#include "orch/errc.hpp"
#include "orch/logging.hpp"
#include "orch/uuid.hpp"

namespace orch::actors {

orphan_finder::~orphan_finder() = default;

std::string to_string(orphan_kind x) {
  switch (x) {
    case orphan_kind::server: return "server";
    case orphan_kind::volume: return "volume";
    case orphan_kind::router: return "router";
    case orphan_kind::port: return "port";
    case orphan_kind::subnet: return "subnet";
    case orphan_kind::network: return "network";
  }
  return "unknown";
}

std::string to_string(orphan_reason x) {
  switch (x) {
    case orphan_reason::deployment_deleted: return "deployment_deleted";
    case orphan_reason::deployment_unknown: return "deployment_unknown";
  }
  return "unknown";
}

namespace {

using namespace orch::openstack;

std::shared_ptr<spdlog::logger> log() {
  return orch::logger("orch.actors");
}

/// A resource carrying an ownership mark, before the repository has been asked about it.
struct candidate {
  orphan_kind kind;
  std::string id;
  std::string name;
  std::string owner;
  /// Carries no installation mark (made before installation ids existed).
  bool unmarked = false;
};

using candidates = std::vector<candidate>;
using step_done = std::function<void(std::optional<os_error>)>;
using step = std::function<void(step_done)>;

/// Runs `steps` one after the other; stops at the first error.
void run_steps(std::shared_ptr<std::vector<step>> steps, std::size_t i, step_done done) {
  if (i == steps->size()) return done(std::nullopt);
  (*steps)[i]([steps, i, done](std::optional<os_error> err) {
    if (err) return done(std::move(err));
    run_steps(steps, i + 1, done);
  });
}

class openstack_orphan_finder : public orphan_finder,
                                public std::enable_shared_from_this<openstack_orphan_finder> {
public:
  openstack_orphan_finder(openstack_orphan_finder_config cfg, http_transport& transport, timer& tmr,
                          clock& clk, executor_function post, executor_function run_blocking,
                          persistence::deployment_repository& repository, client_observer* observer)
    : cfg_(std::move(cfg)), timer_(tmr), clock_(clk), post_(std::move(post)),
      run_blocking_(std::move(run_blocking)), repository_(repository),
      client_(cfg_.client, transport, tmr, clk, make_random(), observer) {
    // nop
  }

  void list(orphans_callback cb) override {
    post_([self = shared_from_this(), cb = std::move(cb)] {
      self->collect([self, cb](std::optional<os_error> err, candidates found) {
        if (err)
          return cb(make_error(errc::unavailable, "listing cloud resources: " + to_string(*err)));
        self->run_blocking_([self, cb, found = std::move(found)] { cb(self->classify(found)); });
      });
    });
  }

  void cleanup(orphans_callback started,
               std::function<void(orphan_cleanup_report)> finished) override {
    list([self = shared_from_this(), started = std::move(started),
          finished = std::move(finished)](caf::expected<std::vector<orphan>> found) {
      if (!found) return started(std::move(found));
      auto items = *found;
      std::stable_sort(items.begin(), items.end(),
                       [](const orphan& x, const orphan& y) { return x.kind < y.kind; });
      started(std::move(found));
      self->post_([self, items = std::move(items), finished] {
        auto report = std::make_shared<orphan_cleanup_report>();
        self->delete_all(std::make_shared<std::vector<orphan>>(std::move(items)), 0, report,
                         finished);
      });
    });
  }

private:
  using self_ptr = std::shared_ptr<openstack_orphan_finder>;
  using failure_callback = std::function<void(std::optional<std::string>)>;

  static random_source make_random() {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [rng] { return std::uniform_real_distribution<double>{0.0, 1.0}(*rng); };
  }

  // -- search ------------------------------------------------------------------------------

  /// The deployment id of the first ownership tag in `tags`, if any.
  std::optional<std::string> owner_of(const std::vector<std::string>& tags) const {
    auto prefix = cfg_.owner_key + "=";
    for (const auto& tag : tags)
      if (tag.size() > prefix.size() && tag.compare(0, prefix.size(), prefix) == 0)
        return tag.substr(prefix.size());
    return std::nullopt;
  }

  /// The installation mark in `tags`: its value, `""` if there is none.
  std::string installation_of(const std::vector<std::string>& tags) const {
    auto prefix = cfg_.installation_key + "=";
    for (const auto& tag : tags)
      if (tag.compare(0, prefix.size(), prefix) == 0) return tag.substr(prefix.size());
    return {};
  }

  /// Whether a resource with this installation mark may belong to us. Without an id of our
  /// own (tests), every mark is taken for ours.
  bool may_be_ours(const std::string& installation) const {
    return installation.empty() || cfg_.installation_id.empty()
           || installation == cfg_.installation_id;
  }

  /// Adds every element of `xs` that carries an ownership tag to `out`.
  template <class T>
  void add_tagged(orphan_kind kind, const std::vector<T>& xs, candidates& out) const {
    for (const auto& x : xs)
      if (auto owner = owner_of(x.tags); owner && may_be_ours(installation_of(x.tags)))
        out.push_back(
          candidate{kind, x.id, x.name, std::move(*owner), installation_of(x.tags).empty()});
  }

  /// A step listing one Neutron collection or Nova's servers through `list_fn`.
  template <class T, class ListFn>
  step tagged_step(orphan_kind kind, std::shared_ptr<candidates> out, ListFn list_fn) {
    auto self = shared_from_this();
    return [self, kind, out, list_fn](step_done next) {
      list_fn([self, kind, out, next](result<std::vector<T>> xs) {
        if (!xs) return next(xs.error());
        self->add_tagged(kind, *xs, *out);
        next(std::nullopt);
      });
    };
  }

  /// Lists every resource carrying an ownership mark; runs on the client's executor.
  void collect(std::function<void(std::optional<os_error>, candidates)> done) {
    auto self = shared_from_this();
    auto out = std::make_shared<candidates>();
    auto steps = std::make_shared<std::vector<step>>();
    steps->push_back(tagged_step<server>(orphan_kind::server, out, [self](auto cb) {
      self->client_.list_servers_detail({}, std::move(cb));
    }));
    steps->push_back([self, out](step_done next) {
      self->client_.list_volumes({}, [self, out, next](result<std::vector<volume>> xs) {
        if (!xs) return next(xs.error());
        for (const auto& v : *xs)
          if (auto i = v.metadata.find(self->cfg_.owner_key);
              i != v.metadata.end() && !i->second.empty()) {
            auto mark = v.metadata.find(self->cfg_.installation_key);
            auto installation = mark == v.metadata.end() ? std::string{} : mark->second;
            if (self->may_be_ours(installation))
              out->push_back(
                candidate{orphan_kind::volume, v.id, v.name, i->second, installation.empty()});
          }
        next(std::nullopt);
      });
    });
    steps->push_back(tagged_step<router>(orphan_kind::router, out, [self](auto cb) {
      self->client_.find_routers_by_tags({}, std::move(cb));
    }));
    steps->push_back(tagged_step<port>(
      orphan_kind::port, out, [self](auto cb) { self->client_.list_ports({}, std::move(cb)); }));
    steps->push_back(tagged_step<subnet>(orphan_kind::subnet, out, [self](auto cb) {
      self->client_.find_subnets_by_tags({}, std::move(cb));
    }));
    steps->push_back(tagged_step<network>(orphan_kind::network, out, [self](auto cb) {
      self->client_.find_networks_by_tags({}, std::move(cb));
    }));
    run_steps(steps, 0, [out, done](std::optional<os_error> err) { done(std::move(err), *out); });
  }

  /// Asks the repository about each owner once; blocks.
  caf::expected<std::vector<orphan>> classify(const candidates& found) {
    std::map<std::string, std::optional<orphan_reason>> verdicts;
    std::vector<orphan> result;
    for (const auto& c : found) {
      auto known = verdicts.find(c.owner);
      if (known == verdicts.end()) {
        auto verdict = judge(c.owner);
        if (!verdict) return std::move(verdict.error());
        known = verdicts.emplace(c.owner, *verdict).first;
      }
      // Unmarked and unknown here: possibly another installation's, so not ours to delete.
      if (known->second
          && !(c.unmarked && !cfg_.installation_id.empty()
               && *known->second == orphan_reason::deployment_unknown))
        result.push_back(orphan{c.kind, c.id, c.name, c.owner, *known->second});
    }
    return result;
  }

  /// Why resources owned by `owner` are orphans, or `nullopt` for a live deployment.
  caf::expected<std::optional<orphan_reason>> judge(const std::string& owner) {
    auto id = uuid::parse(owner);
    if (!id) return std::optional<orphan_reason>{orphan_reason::deployment_unknown};
    auto rec = repository_.get(*id);
    if (!rec) {
      if (is(rec.error(), errc::not_found))
        return std::optional<orphan_reason>{orphan_reason::deployment_unknown};
      return std::move(rec.error());
    }
    if (rec->status == deployment_status::deleted)
      return std::optional<orphan_reason>{orphan_reason::deployment_deleted};
    return std::optional<orphan_reason>{};
  }

  // -- cleanup -----------------------------------------------------------------------------

  void delete_all(std::shared_ptr<std::vector<orphan>> items, std::size_t i,
                  std::shared_ptr<orphan_cleanup_report> report,
                  std::function<void(orphan_cleanup_report)> finished) {
    if (i == items->size()) {
      log()->info("orphan cleanup: {} deleted, {} failed", report->deleted.size(),
                  report->failed.size());
      if (finished) finished(std::move(*report));
      return;
    }
    auto self = shared_from_this();
    const auto& item = (*items)[i];
    delete_one(item, [self, items, i, report, finished](std::optional<std::string> failure) {
      const auto& done = (*items)[i];
      if (failure) {
        log()->warn("[d:{}] orphan {} {} not deleted: {}", done.deployment_id, to_string(done.kind),
                    done.id, *failure);
        report->failed.emplace_back(done, std::move(*failure));
      } else {
        log()->info("[d:{}] orphan {} {} deleted", done.deployment_id, to_string(done.kind),
                    done.id);
        report->deleted.push_back(done);
      }
      self->delete_all(items, i + 1, report, finished);
    });
  }

  static std::optional<std::string> failure_of(const result<openstack::done>& r) {
    if (r || r.error().kind == os_error_kind::not_found) return std::nullopt;
    return to_string(r.error());
  }

  using attempt_fn = std::function<void(callback<openstack::done>)>;
  using sweep_fn = std::function<void(std::function<void()>)>;

  /// Runs `attempt` until it succeeds (404 included), retrying `conflict` and `bad_request`
  /// (Cinder's "still detaching") after `sweep`.
  void delete_with_retries(attempt_fn attempt, sweep_fn sweep, int tries_left,
                           failure_callback cb) {
    auto self = shared_from_this();
    attempt([=](result<openstack::done> r) {
      if (r || r.error().kind == os_error_kind::not_found) return cb(std::nullopt);
      auto kind = r.error().kind;
      if (tries_left <= 0
          || (kind != os_error_kind::conflict && kind != os_error_kind::bad_request))
        return cb(to_string(r.error()));
      sweep([=] {
        self->timer_.after(self->cfg_.conflict_delay,
                           [=] { self->delete_with_retries(attempt, sweep, tries_left - 1, cb); });
      });
    });
  }

  /// Polls `get` until it answers 404 (or a server `DELETED`), up to `until`.
  template <class T>
  void await_gone(std::function<void(callback<T>)> get, clock::time_point until,
                  std::function<void(bool)> cb) {
    auto self = shared_from_this();
    get([=](result<T> r) {
      if (!r && r.error().kind == os_error_kind::not_found) return cb(true);
      if constexpr (std::is_same_v<T, server>)
        if (r && r->status == "DELETED") return cb(true);
      if (self->clock_.now() >= until) return cb(false);
      self->timer_.after(self->cfg_.poll_interval, [=] { self->await_gone<T>(get, until, cb); });
    });
  }

  /// Deletes `ids` one after the other, ignoring failures (they are leftovers of a resource
  /// already deleted).
  void delete_ports(std::shared_ptr<std::vector<std::string>> ids, std::size_t i,
                    std::function<void()> then) {
    if (i == ids->size()) return then();
    auto self = shared_from_this();
    client_.delete_port((*ids)[i], [self, ids, i, then](result<openstack::done>) {
      self->delete_ports(ids, i + 1, then);
    });
  }

  void delete_server(const std::string& id, failure_callback cb) {
    auto self = shared_from_this();
    port_filter filter;
    filter.device_id = id;
    // Ports passed to Nova at boot outlive the server: find them first, remove them after.
    client_.list_ports(filter, [=](result<std::vector<port>> ports) {
      auto port_ids = std::make_shared<std::vector<std::string>>();
      if (ports)
        for (const auto& p : *ports) port_ids->push_back(p.id);
      self->client_.delete_server(id, [=](result<openstack::done> r) {
        if (auto failure = failure_of(r)) return cb(std::move(failure));
        self->await_gone<server>(
          [self, id](callback<server> g) { self->client_.get_server(id, g); },
          self->clock_.now() + self->cfg_.delete_timeout,
          [=](bool gone) {
            if (!gone) return cb("server " + id + " not gone in time");
            self->delete_ports(port_ids, 0, [cb] { cb(std::nullopt); });
          });
      });
    });
  }

  void delete_volume(const std::string& id, failure_callback cb) {
    auto self = shared_from_this();
    delete_with_retries(
      [self, id](callback<openstack::done> c) { self->client_.delete_volume(id, c); },
      [](std::function<void()> then) { then(); }, cfg_.conflict_retries,
      [=](std::optional<std::string> failure) {
        if (failure) return cb(std::move(failure));
        self->await_gone<volume>(
          [self, id](callback<volume> g) { self->client_.get_volume(id, g); },
          self->clock_.now() + self->cfg_.delete_timeout,
          [=](bool gone) {
            if (!gone) return cb("volume " + id + " not gone in time");
            cb(std::nullopt);
          });
      });
  }

  /// Removes the router's interfaces on `subnets` one after the other.
  void remove_interfaces(const std::string& router_id,
                         std::shared_ptr<std::vector<std::string>> subnets, std::size_t i,
                         failure_callback cb) {
    if (i == subnets->size()) return cb(std::nullopt);
    auto self = shared_from_this();
    client_.remove_router_interface(router_id, (*subnets)[i], [=](result<router_interface> r) {
      if (!r && r.error().kind != os_error_kind::not_found) return cb(to_string(r.error()));
      self->remove_interfaces(router_id, subnets, i + 1, cb);
    });
  }

  void delete_router(const std::string& id, failure_callback cb) {
    auto self = shared_from_this();
    port_filter filter;
    filter.device_id = id;
    client_.list_ports(filter, [=](result<std::vector<port>> ports) {
      if (!ports) return cb(to_string(ports.error()));
      auto subnets = std::make_shared<std::vector<std::string>>();
      for (const auto& p : *ports)
        if (p.device_owner == "network:router_interface")
          for (const auto& ip : p.fixed_ips) subnets->push_back(ip.subnet_id);
      self->remove_interfaces(id, subnets, 0, [=](std::optional<std::string> failure) {
        if (failure) return cb(std::move(failure));
        self->client_.set_router_gateway(id, std::nullopt, [=](result<router> r) {
          if (!r && r.error().kind != os_error_kind::not_found) return cb(to_string(r.error()));
          self->delete_with_retries(
            [self, id](callback<openstack::done> c) { self->client_.delete_router(id, c); },
            [](std::function<void()> then) { then(); }, self->cfg_.conflict_retries, cb);
        });
      });
    });
  }

  /// Deletes ports of `network_id` that no device uses any more, then calls `then`.
  void sweep_unbound_ports(const std::string& network_id, std::function<void()> then) {
    auto self = shared_from_this();
    port_filter filter;
    filter.network_id = network_id;
    client_.list_ports(filter, [=](result<std::vector<port>> ports) {
      auto ids = std::make_shared<std::vector<std::string>>();
      if (ports)
        for (const auto& p : *ports)
          if (p.device_id.empty() && p.device_owner.empty()) ids->push_back(p.id);
      self->delete_ports(ids, 0, then);
    });
  }

  void delete_one(const orphan& item, failure_callback cb) {
    auto self = shared_from_this();
    auto id = item.id;
    auto no_sweep = [](std::function<void()> then) { then(); };
    switch (item.kind) {
      case orphan_kind::server: return delete_server(id, std::move(cb));
      case orphan_kind::volume: return delete_volume(id, std::move(cb));
      case orphan_kind::router: return delete_router(id, std::move(cb));
      case orphan_kind::port:
        return client_.delete_port(id, [cb](result<openstack::done> r) { cb(failure_of(r)); });
      case orphan_kind::subnet:
        return delete_with_retries(
          [self, id](callback<openstack::done> c) { self->client_.delete_subnet(id, c); }, no_sweep,
          cfg_.conflict_retries, std::move(cb));
      case orphan_kind::network:
        return delete_with_retries(
          [self, id](callback<openstack::done> c) { self->client_.delete_network(id, c); },
          [self, id](std::function<void()> then) { self->sweep_unbound_ports(id, then); },
          cfg_.conflict_retries, std::move(cb));
    }
    cb("unknown resource kind");
  }

  openstack_orphan_finder_config cfg_;
  timer& timer_;
  clock& clock_;
  executor_function post_;
  executor_function run_blocking_;
  persistence::deployment_repository& repository_;
  client client_;
};

} // namespace

std::shared_ptr<orphan_finder> make_openstack_orphan_finder(
  openstack_orphan_finder_config cfg, http_transport& transport, timer& timer, clock& clock,
  executor_function post, executor_function run_blocking,
  persistence::deployment_repository& repository, client_observer* observer) {
  return std::make_shared<openstack_orphan_finder>(std::move(cfg), transport, timer, clock,
                                                   std::move(post), std::move(run_blocking),
                                                   repository, observer);
}

} // namespace orch::actors
