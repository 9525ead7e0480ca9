#include <algorithm>
#include <memory>
#include <random>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "orch/actors/cloud_commands.hpp"
#include "orch/logging.hpp"
#include "orch/openstack/requests.hpp"
#include "orch/openstack/url.hpp"

namespace orch::actors {

cloud_commands::~cloud_commands() = default;

void cloud_commands::cancel(const deployment_command&) {
  // nop
}

namespace {

using namespace orch::openstack;

/// Stable `operation.error.code` of a cloud failure.
std::string code_of(const os_error& err) {
  return err.kind == os_error_kind::quota ? "quota_exceeded" : to_string(err.kind);
}

/// Cinder has no tags: ownership marks `k=v` become metadata pairs.
std::map<std::string, std::string> tags_to_metadata(const std::vector<std::string>& tags) {
  std::map<std::string, std::string> result;
  for (const auto& tag : tags) {
    auto eq = tag.find('=');
    if (eq != std::string::npos) result.emplace(tag.substr(0, eq), tag.substr(eq + 1));
  }
  return result;
}

bool has_fixed_ip_on(const port& p, const std::string& subnet_id) {
  return std::any_of(p.fixed_ips.begin(), p.fixed_ips.end(),
                     [&](const fixed_ip& ip) { return ip.subnet_id == subnet_id; });
}

class openstack_commands : public cloud_commands,
                           public std::enable_shared_from_this<openstack_commands> {
public:
  openstack_commands(openstack_commands_config cfg, http_transport& transport, timer& tmr,
                     clock& clk, executor_function post, client_observer* observer)
    : cfg_(std::move(cfg)), timer_(tmr), clock_(clk), post_(std::move(post)),
      client_(cfg_.client, transport, tmr, clk, make_random(), observer),
      poller_(client_, tmr, clk, cfg_.poller) {
    // nop
  }

  void run(const uuid& deployment, deployment_command cmd, command_callback done) override {
    post_([self = shared_from_this(), deployment, cmd = std::move(cmd), done = std::move(done)] {
      // A bug in one command fails that command's step, not the thread every cloud call runs
      // on. (Exceptions from later callbacks reach the executor's own boundary instead; the
      // deployment's watchdog then notices the lost answer.)
      try {
        self->run_attempt(deployment, std::make_shared<const deployment_command>(cmd), done,
                          self->clock_.now(), 1);
      } catch (const std::exception& e) {
        logger("orch.actors")
          ->error("[d:{}] {} raised an exception: {}", to_string(deployment), logical_name_of(cmd),
                  e.what());
        done(step_failed{resource_kind::network,
                         logical_name_of(cmd),
                         "internal",
                         std::string{"internal error: "} + e.what(),
                         {}});
      }
    });
  }

  void cancel(const deployment_command& cmd) override {
    std::string id;
    if (const auto* w = std::get_if<wait_server_active>(&cmd))
      id = w->server_id;
    else if (const auto* v = std::get_if<wait_volume_available>(&cmd))
      id = v->volume_id;
    else
      return;
    post_([self = shared_from_this(), id] {
      auto [first, last] = self->waits_.equal_range(id);
      for (auto i = first; i != last; ++i) self->poller_.cancel(i->second);
      self->waits_.erase(first, last);
    });
  }

private:
  using self_ptr = std::shared_ptr<openstack_commands>;

  /// Codes of failures another attempt may get past (see `code_of`).
  static bool is_transient(const std::string& code) {
    return code == "transient" || code == "outcome_unknown" || code == "rate_limited"
           || code == "circuit_open";
  }

  /// Runs `cmd`, and runs it again after a transient failure until the retry deadline. A
  /// create whose answer was lost (`outcome_unknown`) is repeated safely: each attempt first
  /// looks its resource up by tag and adopts it, so the cloud never gets a second one.
  void run_attempt(const uuid& deployment, std::shared_ptr<const deployment_command> cmd,
                   command_callback done, clock::time_point started, int attempts) {
    auto self = shared_from_this();
    command_callback retry_or_done = [=](input_event ev) {
      auto* failed = std::get_if<step_failed>(&ev);
      if (failed == nullptr || !is_transient(failed->code)) return done(std::move(ev));
      auto delay = backoff_delay(self->cfg_.client.retry, attempts, self->random_());
      if (self->clock_.now() + delay - started > self->cfg_.transient_retry_deadline)
        return done(std::move(ev));
      logger("orch.actors")
        ->warn("[d:{}] {} {} failed ({}), attempt {} in {} ms", to_string(deployment),
               to_string(failed->kind), failed->logical_name, failed->message, attempts + 1,
               delay.count());
      self->timer_.after(delay,
                         [=] { self->run_attempt(deployment, cmd, done, started, attempts + 1); });
    };
    std::visit([&](const auto& c) { exec(c, retry_or_done); }, *cmd);
  }

  struct cached_id {
    std::string id;
    clock::time_point fetched;
  };

  /// Flavors and images rarely change; an image name re-pointed to a new image is seen after
  /// this long.
  static constexpr std::chrono::seconds name_cache_ttl{60};

  static random_source make_random() {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [rng] { return std::uniform_real_distribution<double>{0.0, 1.0}(*rng); };
  }

  static void fail(const command_callback& done, resource_kind kind, const std::string& logical,
                   const os_error& err) {
    done(step_failed{kind, logical, code_of(err), to_string(err), {}});
  }

  static void fail(const command_callback& done, resource_kind kind, const std::string& logical,
                   std::string code, std::string message) {
    done(step_failed{kind, logical, std::move(code), std::move(message), {}});
  }

  clock::time_point deadline(std::chrono::milliseconds d) const { return clock_.now() + d; }

  // -- lookups -------------------------------------------------------------------------------

  void exec(const record_event&, const command_callback& done) {
    fail(done, resource_kind::network, {}, "internal", "record_event sent to the cloud");
  }

  template <class T>
  static std::optional<std::string> first_id(const std::vector<T>& xs) {
    if (xs.empty()) return std::nullopt;
    return xs.front().id;
  }

  void exec(const find_by_tag& c, const command_callback& done) {
    auto answer = [kind = c.kind, logical = c.logical_name, done](auto r) {
      if (!r) return fail(done, kind, logical, r.error());
      done(lookup_result{kind, logical, first_id(*r), {}});
    };
    switch (c.kind) {
      case resource_kind::network: return client_.find_networks_by_tags(c.tags, answer);
      case resource_kind::subnet: return client_.find_subnets_by_tags(c.tags, answer);
      case resource_kind::router: return client_.find_routers_by_tags(c.tags, answer);
      case resource_kind::server: {
        server_filters filters;
        filters.tags = identity_tags(c.tags);
        return client_.list_servers_detail(filters, answer);
      }
      case resource_kind::volume: {
        volume_filters filters;
        filters.metadata = tags_to_metadata(identity_tags(c.tags));
        return client_.list_volumes(filters, answer);
      }
      default:
        // Links carry no tags: the state machine re-issues them, and they are idempotent.
        return done(lookup_result{c.kind, c.logical_name, std::nullopt, {}});
    }
  }

  // -- Neutron creates -------------------------------------------------------------------

  // Neutron tags a resource only in a second call after its create. A crash between the two
  // leaves a resource without our tags but with its deterministic name and the deployment's
  // description: such a resource is adopted (and tagged) instead of created a second time
  // (openstack-api README, section 8).
  void find_untagged(neutron_collection coll, const std::string& name,
                     const std::string& description,
                     std::function<void(result<std::optional<std::string>>)> cb) {
    auto key = to_string(coll);
    client_.call(service::network, "GET", "/v2.0/" + key + "?name=" + url_encode(name), {}, {},
                 [key, description, cb](result<http_result> r) {
                   if (!r) return cb(r.error());
                   rapidjson::Document doc;
                   doc.Parse(r->body.data(), r->body.size());
                   if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(key.c_str())
                       || !doc[key.c_str()].IsArray())
                     return cb(std::optional<std::string>{});
                   for (auto& item : doc[key.c_str()].GetArray())
                     if (is_ours_but_untagged(item, description))
                       return cb(std::optional<std::string>{item["id"].GetString()});
                   cb(std::optional<std::string>{});
                 });
  }

  static bool is_ours_but_untagged(const rapidjson::Value& item, const std::string& description) {
    if (!item.IsObject() || !item.HasMember("id") || !item["id"].IsString()
        || !item.HasMember("description") || !item["description"].IsString()
        || description != item["description"].GetString())
      return false;
    if (item.HasMember("tags") && item["tags"].IsArray())
      for (auto& tag : item["tags"].GetArray())
        if (tag.IsString() && std::string_view{tag.GetString()}.rfind("orch-deployment=", 0) == 0)
          return false;
    return true;
  }

  /// Creates unless a resource with `tags` (or an untagged one of ours) exists, then tags it;
  /// answers `create_result`.
  template <class Find, class Create>
  void create_tagged(resource_kind kind, const std::string& logical, neutron_collection coll,
                     std::vector<std::string> tags, const std::string& name,
                     const std::string& description, Find find, Create create,
                     const command_callback& done) {
    auto self = shared_from_this();
    auto tag_and_finish = [=](std::string id) {
      self->client_.replace_tags(coll, id, tags, [=](result<std::vector<std::string>> r) {
        if (!r) return fail(done, kind, logical, r.error());
        done(create_result{kind, logical, id, {}});
      });
    };
    find(identity_tags(tags), [=](auto found) {
      if (!found) return fail(done, kind, logical, found.error());
      if (!found->empty()) return done(create_result{kind, logical, found->front().id, {}});
      self->find_untagged(coll, name, description, [=](result<std::optional<std::string>> left) {
        if (!left) return fail(done, kind, logical, left.error());
        if (*left) return tag_and_finish(**left);
        create([=](auto made) {
          if (!made) return fail(done, kind, logical, made.error());
          tag_and_finish(made->id);
        });
      });
    });
  }

  void exec(const create_network& c, const command_callback& done) {
    auto self = shared_from_this();
    create_tagged(
      resource_kind::network, c.logical_name, neutron_collection::networks, c.tags, c.spec.name,
      c.spec.description,
      [self](const auto& tags, auto cb) { self->client_.find_networks_by_tags(tags, cb); },
      [self, spec = c.spec](auto cb) { self->client_.create_network(spec, cb); }, done);
  }

  void exec(const create_subnet& c, const command_callback& done) {
    auto self = shared_from_this();
    create_tagged(
      resource_kind::subnet, c.logical_name, neutron_collection::subnets, c.tags, c.spec.name,
      c.spec.description,
      [self](const auto& tags, auto cb) { self->client_.find_subnets_by_tags(tags, cb); },
      [self, spec = c.spec](auto cb) { self->client_.create_subnet(spec, cb); }, done);
  }

  void exec(const create_router& c, const command_callback& done) {
    auto self = shared_from_this();
    create_tagged(
      resource_kind::router, c.logical_name, neutron_collection::routers, c.tags, c.spec.name,
      c.spec.description,
      [self](const auto& tags, auto cb) { self->client_.find_routers_by_tags(tags, cb); },
      [self, spec = c.spec](auto cb) { self->client_.create_router(spec, cb); }, done);
  }

  /// The id of the network named `name` (or with that id).
  void resolve_network(const std::string& name, std::function<void(result<std::string>)> cb) {
    client_.call(service::network, "GET", "/v2.0/networks?name=" + url_encode(name), {},
                 "list_networks", [self = shared_from_this(), name, cb](result<http_result> r) {
                   if (!r) return cb(r.error());
                   rapidjson::Document doc;
                   doc.Parse(r->body.data(), r->body.size());
                   if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("networks")
                       && doc["networks"].IsArray() && !doc["networks"].Empty()
                       && doc["networks"][0].HasMember("id") && doc["networks"][0]["id"].IsString())
                     return cb(std::string{doc["networks"][0]["id"].GetString()});
                   self->client_.get_network(name, [cb](result<network> n) {
                     if (!n) return cb(n.error());
                     cb(n->id);
                   });
                 });
  }

  void exec(const set_router_gateway& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto router_id = c.router_id;
    resolve_network(c.external_network, [=](result<std::string> net) {
      if (!net) return fail(done, resource_kind::router_gateway, logical, net.error());
      self->client_.set_router_gateway(router_id, *net, [=](result<router> r) {
        if (!r) return fail(done, resource_kind::router_gateway, logical, r.error());
        done(create_result{resource_kind::router_gateway, logical, {}, {}});
      });
    });
  }

  void exec(const add_router_interface& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto router_id = c.router_id;
    auto subnet_id = c.subnet_id;
    client_.add_router_interface(router_id, subnet_id, [=](result<router_interface> r) {
      if (r) return done(create_result{resource_kind::router_interface, logical, r->port_id, {}});
      // Re-issued after a restart, the interface may exist already: that counts as done.
      auto err = r.error();
      port_filter filter;
      filter.device_id = router_id;
      self->client_.list_ports(filter, [=](result<std::vector<port>> ports) {
        if (ports)
          for (const auto& p : *ports)
            if (has_fixed_ip_on(p, subnet_id))
              return done(create_result{resource_kind::router_interface, logical, p.id, {}});
        fail(done, resource_kind::router_interface, logical, err);
      });
    });
  }

  // -- Nova --------------------------------------------------------------------------------

  /// Nova cannot be told a subnet: a port made on it carries the server's address.
  // The port carries the server's ownership tags (Neutron accepts `tags` on a port create), so
  // a crash between the port and the server create leaves nothing the orphan finder cannot see.
  // A port whose create answer was lost is still there, tagged and unbound: the next attempt
  // boots with it instead of making another.
  void create_port(const std::string& network_id, const std::string& subnet_id,
                   const std::string& name, const std::vector<std::string>& tags,
                   std::function<void(result<std::string>)> cb) {
    port_filter filter;
    filter.network_id = network_id;
    client_.list_ports(filter, [self = shared_from_this(), network_id, subnet_id, name, tags,
                                cb](result<std::vector<port>> ports) {
      if (!ports) return cb(ports.error());
      auto identity = identity_tags(tags);
      for (const auto& p : *ports)
        if (p.name == name && p.device_id.empty() && has_fixed_ip_on(p, subnet_id)
            && std::all_of(identity.begin(), identity.end(), [&](const std::string& tag) {
                 return std::find(p.tags.begin(), p.tags.end(), tag) != p.tags.end();
               }))
          return cb(p.id);
      self->post_port(network_id, subnet_id, name, tags, cb);
    });
  }

  void post_port(const std::string& network_id, const std::string& subnet_id,
                 const std::string& name, const std::vector<std::string>& tags,
                 std::function<void(result<std::string>)> cb) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    w.StartObject();
    w.Key("port");
    w.StartObject();
    w.Key("network_id");
    w.String(network_id.c_str());
    w.Key("name");
    w.String(name.c_str());
    w.Key("fixed_ips");
    w.StartArray();
    w.StartObject();
    w.Key("subnet_id");
    w.String(subnet_id.c_str());
    w.EndObject();
    w.EndArray();
    w.Key("tags");
    w.StartArray();
    for (const auto& tag : tags) w.String(tag.c_str());
    w.EndArray();
    w.EndObject();
    w.EndObject();
    client_.call(service::network, "POST", "/v2.0/ports", buf.GetString(), "create_port",
                 [cb](result<http_result> r) {
                   if (!r) return cb(r.error());
                   rapidjson::Document doc;
                   doc.Parse(r->body.data(), r->body.size());
                   if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("port")
                       || !doc["port"].IsObject() || !doc["port"].HasMember("id")
                       || !doc["port"]["id"].IsString())
                     return cb(os_error{os_error_kind::malformed_response,
                                        r->status,
                                        {},
                                        "port create answer without port.id",
                                        {},
                                        {}});
                   cb(std::string{doc["port"]["id"].GetString()});
                 });
  }

  void exec(const create_server& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto kind = resource_kind::server;
    server_filters filters;
    filters.tags = identity_tags(c.spec.tags);
    auto spec = c.spec;
    auto subnet_id = c.subnet_id;
    client_.list_servers_detail(filters, [=](result<std::vector<server>> found) mutable {
      if (!found) return fail(done, kind, logical, found.error());
      for (const auto& s : *found)
        if (s.status != "DELETED") return done(create_result{kind, logical, s.id, {}});
      self->resolve_name<flavor>(
        self->flavor_ids_, spec.flavor_ref,
        [self](const std::string& name, callback<flavor> cb) {
          self->client_.find_flavor(name, std::move(cb));
        },
        [=](result<std::string> fl) mutable {
          if (!fl) return fail(done, kind, logical, fl.error());
          spec.flavor_ref = *fl;
          self->resolve_name<image>(
            self->image_ids_, spec.image_ref,
            [self](const std::string& name, callback<image> cb) {
              self->client_.find_image(name, std::move(cb));
            },
            [=](result<std::string> img) mutable {
              if (!img) return fail(done, kind, logical, img.error());
              spec.image_ref = *img;
              auto boot = [=](std::string port_id) {
                auto s = spec;
                if (!port_id.empty()) s.networks = {server_nic{{}, port_id, {}}};
                self->client_.create_server(s, [=](result<created_server> made) {
                  if (made) return done(create_result{kind, logical, made->id, {}});
                  auto err = made.error();
                  if (port_id.empty() || err.kind == os_error_kind::outcome_unknown)
                    return fail(done, kind, logical, err);
                  self->client_.delete_port(
                    port_id, [=](result<openstack::done>) { fail(done, kind, logical, err); });
                });
              };
              if (subnet_id.empty() || spec.networks.empty() || spec.networks[0].network_id.empty())
                return boot({});
              self->create_port(spec.networks[0].network_id, subnet_id, spec.name + "-port",
                                spec.tags, [=](result<std::string> port_id) {
                                  if (!port_id) return fail(done, kind, logical, port_id.error());
                                  boot(*port_id);
                                });
            });
        });
    });
  }

  /// Resolves a flavor or image name through `ids`, or else `find` (then kept for
  /// `name_cache_ttl`): every VM of a deployment names the same flavor and image, and asking
  /// the cloud again for each VM made these lookups a third of a VM's create calls. A name
  /// the cloud does not know passes through unchanged (it may be an id).
  template <class T, class Find>
  void resolve_name(std::map<std::string, cached_id>& ids, const std::string& name, Find find,
                    std::function<void(result<std::string>)> cb) {
    if (auto i = ids.find(name);
        i != ids.end() && clock_.now() - i->second.fetched < name_cache_ttl)
      return cb(i->second.id);
    find(name, [self = shared_from_this(), &ids, name, cb](result<T> r) {
      if (r) {
        ids[name] = cached_id{r->id, self->clock_.now()};
        return cb(r->id);
      }
      if (r.error().kind == os_error_kind::not_found) return cb(name);
      cb(r.error());
    });
  }

  void exec(const wait_server_active& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto kind = resource_kind::server;
    auto server_id = c.server_id;
    auto waiter = std::make_shared<waiter_id>(0);
    *waiter = poller_.wait_for_server(
      c.server_id, deadline(cfg_.boot_timeout), [=](const wait_result& w) {
        self->untrack_wait(server_id, *waiter);
        switch (w.outcome) {
          case wait_outcome::reached:
            return self->client_.get_server(w.id, [=](result<server> s) {
              ready_result ready{kind, logical, w.status, {}, {}};
              if (s)
                for (const auto& a : s->addresses) ready.addresses.push_back(a.addr);
              done(std::move(ready));
            });
          case wait_outcome::failed:
            return fail(done, kind, logical, "server_error",
                        w.fault_message.empty() ? "server went to " + w.status : w.fault_message);
          case wait_outcome::gone:
            return fail(done, kind, logical, "not_found", "server " + w.id + " disappeared");
          case wait_outcome::timed_out:
            return fail(done, kind, logical, "timeout",
                        "server " + w.id + " not ACTIVE in time (last status " + w.status + ")");
        }
      });
    waits_.emplace(server_id, *waiter);
  }

  void untrack_wait(const std::string& id, waiter_id waiter) {
    auto [first, last] = waits_.equal_range(id);
    for (auto i = first; i != last; ++i)
      if (i->second == waiter) {
        waits_.erase(i);
        return;
      }
  }

  // -- Nova resize and rebuild ----------------------------------------------------------
  //
  // Every one of these commands reads the server before it acts: sent again after a crash or
  // a lost answer, it carries on from what Nova shows instead of resizing or rebuilding twice.

  using server_test = std::function<bool(const server&)>;

  static void answer_change(const std::string& logical, const server& s, const server_test& is_at,
                            std::string code, std::string message, const command_callback& done) {
    change_result r;
    r.logical_name = logical;
    r.status = s.status;
    r.at_target = is_at(s);
    for (const auto& a : s.addresses) r.addresses.push_back(a.addr);
    r.code = std::move(code);
    r.message = std::move(message);
    done(std::move(r));
  }

  /// Reads the server and answers with what it shows, `code` and `message` as the failure.
  void report_change(const std::string& logical, const std::string& id, server_test is_at,
                     std::string code, std::string message, const command_callback& done) {
    client_.get_server(id, [=](result<server> s) {
      if (!s) return fail(done, resource_kind::server, logical, s.error());
      answer_change(logical, *s, is_at, code, message, done);
    });
  }

  /// Waits until the server has a status in `targets` (or ERROR, or the boot timeout
  /// passes), then answers with what it shows.
  void settle(const std::string& logical, const std::string& id, std::vector<std::string> targets,
              server_test is_at, const command_callback& done) {
    auto self = shared_from_this();
    poller_.wait_for_server(
      id, deadline(cfg_.boot_timeout),
      [=](const wait_result& w) {
        switch (w.outcome) {
          case wait_outcome::reached:
            // A poll sent before the action may still show the status before it: read the
            // server itself, and wait again if it has not got there.
            return self->client_.get_server(id, [=](result<server> s) {
              if (!s) return fail(done, resource_kind::server, logical, s.error());
              if (std::find(targets.begin(), targets.end(), s->status) == targets.end()
                  && s->status != "ERROR")
                return self->settle(logical, id, targets, is_at, done);
              answer_change(logical, *s, is_at, {}, {}, done);
            });
          case wait_outcome::failed:
            return self->report_change(
              logical, id, is_at, "server_error",
              w.fault_message.empty() ? "server went to " + w.status : w.fault_message, done);
          case wait_outcome::gone:
            return fail(done, resource_kind::server, logical, "not_found",
                        "server " + id + " disappeared");
          case wait_outcome::timed_out:
            return self->report_change(
              logical, id, is_at, "timeout",
              "server " + id + " did not settle in time (last status " + w.status + ")", done);
        }
      },
      targets);
  }

  /// Answers a refused action with the server as it stands now: a server already ACTIVE on
  /// the target was changed by an earlier attempt (its answer lost in a crash), so the refusal
  /// is no failure.
  void report_refusal(const std::string& logical, const std::string& id, server_test is_at,
                      const os_error& err, const command_callback& done) {
    client_.get_server(id, [=](result<server> s) {
      if (!s) return fail(done, resource_kind::server, logical, s.error());
      if (s->status == "ACTIVE" && is_at(*s))
        return answer_change(logical, *s, is_at, {}, {}, done);
      answer_change(logical, *s, is_at, code_of(err), to_string(err), done);
    });
  }

  /// Sends `action`, then `then()`. A transient failure fails the step so that it is tried
  /// again (reading the server first); a refusal is answered with the server as it stands.
  void act(const std::string& logical, const std::string& id, server_action action,
           server_test is_at, std::function<void()> then, const command_callback& done) {
    auto self = shared_from_this();
    client_.run_server_action(id, action, [=](result<openstack::done> r) {
      if (r) return then();
      if (is_transient(code_of(r.error())))
        return fail(done, resource_kind::server, logical, r.error());
      self->report_refusal(logical, id, is_at, r.error(), done);
    });
  }

  /// Resolves a flavor name to its id, then calls `next` with a test for "runs on it".
  void with_flavor(const std::string& logical, const std::string& flavor_ref,
                   std::function<void(std::string, server_test)> next,
                   const command_callback& done) {
    auto self = shared_from_this();
    resolve_name<flavor>(
      flavor_ids_, flavor_ref,
      [self](const std::string& name, callback<flavor> cb) {
        self->client_.find_flavor(name, std::move(cb));
      },
      [=](result<std::string> id) {
        if (!id) return fail(done, resource_kind::server, logical, id.error());
        // Nova 2.47+ embeds the flavor's name instead of its id.
        next(*id, [flavor_ref, id = *id](const server& s) {
          return s.flavor_name == flavor_ref || s.flavor_id == id || s.flavor_id == flavor_ref;
        });
      });
  }

  void exec(const resize_server& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto id = c.server_id;
    with_flavor(
      logical, c.flavor,
      [=](std::string flavor_id, server_test is_at) {
        auto wait = [=] { self->settle(logical, id, {"VERIFY_RESIZE", "ACTIVE"}, is_at, done); };
        self->client_.get_server(id, [=](result<server> s) {
          if (!s) return fail(done, resource_kind::server, logical, s.error());
          if (s->status == "RESIZE") return wait();
          if ((s->status != "ACTIVE" && s->status != "SHUTOFF") || is_at(*s))
            return answer_change(logical, *s, is_at, {}, {}, done);
          self->act(logical, id, server_action{server_action_kind::resize, flavor_id, {}}, is_at,
                    wait, done);
        });
      },
      done);
  }

  void exec(const confirm_resize& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto id = c.server_id;
    with_flavor(
      logical, c.flavor,
      [=](std::string, server_test is_at) {
        self->client_.get_server(id, [=](result<server> s) {
          if (!s) return fail(done, resource_kind::server, logical, s.error());
          if (s->status == "RESIZE")
            return self->settle(logical, id, {"VERIFY_RESIZE", "ACTIVE"}, is_at, done);
          if (s->status != "VERIFY_RESIZE") return answer_change(logical, *s, is_at, {}, {}, done);
          auto wait = [=] { self->settle(logical, id, {"ACTIVE"}, is_at, done); };
          self->client_.run_server_action(
            id, server_action{server_action_kind::confirm_resize, {}, {}},
            [=](result<openstack::done> r) {
              if (r) return wait();
              auto code = code_of(r.error());
              if (is_transient(code)) return fail(done, resource_kind::server, logical, r.error());
              // Nova answers a second confirm with 400 while it still cleans up after the
              // first, the server still VERIFY_RESIZE: a confirm sent again after a crash.
              if (r.error().kind == os_error_kind::bad_request) return wait();
              self->report_refusal(logical, id, is_at, r.error(), done);
            });
        });
      },
      done);
  }

  void exec(const revert_resize& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto id = c.server_id;
    with_flavor(
      logical, c.flavor,
      [=](std::string, server_test is_at) {
        auto wait = [=] { self->settle(logical, id, {"ACTIVE"}, is_at, done); };
        self->client_.get_server(id, [=](result<server> s) {
          if (!s) return fail(done, resource_kind::server, logical, s.error());
          if (s->status == "REVERT_RESIZE") return wait();
          if (s->status != "VERIFY_RESIZE") return answer_change(logical, *s, is_at, {}, {}, done);
          self->act(logical, id, server_action{server_action_kind::revert_resize, {}, {}}, is_at,
                    wait, done);
        });
      },
      done);
  }

  void exec(const rebuild_server& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto id = c.server_id;
    auto image_ref = c.image;
    resolve_name<image>(
      image_ids_, image_ref,
      [self](const std::string& name, callback<image> cb) {
        self->client_.find_image(name, std::move(cb));
      },
      [=](result<std::string> image_id) {
        if (!image_id) return fail(done, resource_kind::server, logical, image_id.error());
        server_test is_at = [image_ref, image_id = *image_id](const server& s) {
          return s.image_id == image_id || s.image_id == image_ref;
        };
        auto wait = [=] { self->settle(logical, id, {"ACTIVE"}, is_at, done); };
        self->client_.get_server(id, [=](result<server> s) {
          if (!s) return fail(done, resource_kind::server, logical, s.error());
          if (s->status == "REBUILD") return wait();
          auto idle = s->status == "ACTIVE" || s->status == "SHUTOFF" || s->status == "ERROR";
          if (!idle || (s->status == "ACTIVE" && is_at(*s)))
            return answer_change(logical, *s, is_at, {}, {}, done);
          self->act(logical, id, server_action{server_action_kind::rebuild, {}, *image_id}, is_at,
                    wait, done);
        });
      });
  }

  // -- Cinder ------------------------------------------------------------------------------

  void exec(const create_volume& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto kind = resource_kind::volume;
    auto spec = c.spec;
    volume_filters filters;
    filters.metadata = identity_metadata(spec.metadata);
    client_.list_volumes(filters, [=](result<std::vector<volume>> found) {
      if (!found) return fail(done, kind, logical, found.error());
      for (const auto& v : *found)
        if (v.status != "deleting") return done(create_result{kind, logical, v.id, {}});
      self->client_.create_volume(spec, [=](result<volume> made) {
        if (!made) return fail(done, kind, logical, made.error());
        done(create_result{kind, logical, made->id, {}});
      });
    });
  }

  /// Waits for a volume status; `ok` gets the final status.
  waiter_id wait_volume(resource_kind kind, const std::string& logical, const std::string& id,
                        std::vector<std::string> targets, bool gone_is_ok,
                        const command_callback& done, std::function<void(std::string)> ok) {
    auto self = shared_from_this();
    auto waiter = std::make_shared<waiter_id>(0);
    *waiter = poller_.wait_for_volume(
      id, deadline(cfg_.volume_timeout),
      [=](const wait_result& w) {
        self->untrack_wait(id, *waiter);
        switch (w.outcome) {
          case wait_outcome::reached: return ok(w.status);
          case wait_outcome::failed:
            return fail(done, kind, logical, "volume_error", "volume went to " + w.status);
          case wait_outcome::gone:
            if (gone_is_ok) return ok({});
            return fail(done, kind, logical, "not_found", "volume " + w.id + " disappeared");
          case wait_outcome::timed_out:
            return fail(done, kind, logical, "timeout",
                        "volume " + w.id + " still " + w.status + " at the deadline");
        }
      },
      std::move(targets));
    return *waiter;
  }

  void exec(const wait_volume_available& c, const command_callback& done) {
    auto logical = c.logical_name;
    auto waiter = wait_volume(resource_kind::volume, logical, c.volume_id, {"available"}, false,
                              done, [=](std::string status) {
                                done(ready_result{resource_kind::volume, logical, status, {}, {}});
                              });
    waits_.emplace(c.volume_id, waiter);
  }

  static bool attached_to(const volume& v, const std::string& server_id) {
    return std::any_of(v.attachments.begin(), v.attachments.end(),
                       [&](const auto& a) { return a.server_id == server_id; });
  }

  void exec(const attach_volume& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto kind = resource_kind::volume_attachment;
    auto server_id = c.server_id;
    auto volume_id = c.volume_id;
    auto finish = [=](std::string) { done(create_result{kind, logical, volume_id, {}}); };
    auto await_in_use
      = [=] { self->wait_volume(kind, logical, volume_id, {"in-use"}, false, done, finish); };
    client_.get_volume(volume_id, [=](result<volume> v) {
      if (!v) return fail(done, kind, logical, v.error());
      if (attached_to(*v, server_id)) return await_in_use();
      self->client_.attach_volume(server_id, volume_id, false, [=](result<volume_attachment> a) {
        if (!a) return fail(done, kind, logical, a.error());
        await_in_use();
      });
    });
  }

  void exec(const detach_volume& c, const command_callback& done) {
    auto self = shared_from_this();
    auto logical = c.logical_name;
    auto kind = resource_kind::volume_attachment;
    auto volume_id = c.volume_id;
    client_.detach_volume(c.server_id, volume_id, [=](result<openstack::done> r) {
      if (!r && r.error().kind != os_error_kind::not_found)
        return fail(done, kind, logical, r.error());
      self->wait_volume(kind, logical, volume_id, {"available"}, true, done, [=](std::string) {
        done(gone_result{kind, logical, {}});
      });
    });
  }

  // -- unlinks and deletes -----------------------------------------------------------------

  void exec(const remove_router_interface& c, const command_callback& done) {
    auto logical = c.logical_name;
    client_.remove_router_interface(c.router_id, c.subnet_id, [=](result<router_interface> r) {
      if (!r && r.error().kind != os_error_kind::not_found)
        return fail(done, resource_kind::router_interface, logical, r.error());
      done(gone_result{resource_kind::router_interface, logical, {}});
    });
  }

  void exec(const clear_router_gateway& c, const command_callback& done) {
    auto logical = c.logical_name;
    client_.set_router_gateway(c.router_id, std::nullopt, [=](result<router> r) {
      if (!r && r.error().kind != os_error_kind::not_found)
        return fail(done, resource_kind::router_gateway, logical, r.error());
      done(gone_result{resource_kind::router_gateway, logical, {}});
    });
  }

  using attempt_fn = std::function<void(callback<openstack::done>)>;

  /// Runs `attempt` until it succeeds (404 included), retrying `conflict` and `bad_request`
  /// (Cinder's "still detaching") after `sweep`.
  void delete_with_retries(attempt_fn attempt, std::function<void(std::function<void()>)> sweep,
                           int tries_left, callback<openstack::done> cb) {
    auto self = shared_from_this();
    attempt([=](result<openstack::done> r) {
      if (r || r.error().kind == os_error_kind::not_found) return cb(openstack::done{});
      auto kind = r.error().kind;
      if (tries_left <= 0
          || (kind != os_error_kind::conflict && kind != os_error_kind::bad_request))
        return cb(r.error());
      sweep([=] {
        self->timer_.after(self->cfg_.conflict_delay,
                           [=] { self->delete_with_retries(attempt, sweep, tries_left - 1, cb); });
      });
    });
  }

  /// Waits through the batched poller until a deleted server or volume is gone (404,
  /// `DELETED`, or missing from a full listing), up to `until`. An error status on the way
  /// (a delete Nova or Cinder has not finished yet) is not the end: the wait goes on.
  void await_gone(resource_kind kind, const std::string& id, clock::time_point until,
                  std::function<void(bool)> cb) {
    auto self = shared_from_this();
    auto on_wait = [=](const wait_result& w) {
      switch (w.outcome) {
        case wait_outcome::gone: return cb(true);
        case wait_outcome::timed_out: return cb(false);
        case wait_outcome::reached:
        case wait_outcome::failed:
          if (self->clock_.now() >= until) return cb(false);
          self->timer_.after(self->cfg_.poller.fast_interval,
                             [=] { self->await_gone(kind, id, until, cb); });
      }
    };
    // No target status: only disappearing ends the wait.
    if (kind == resource_kind::server)
      poller_.wait_for_server(id, until, on_wait, {});
    else
      poller_.wait_for_volume(id, until, on_wait, {});
  }

  /// Deletes ports that no device uses any more (those a deleted server was booted with)
  /// when `keep` says they belong to the resource being deleted.
  void sweep_unbound_ports(port_filter filter, std::function<bool(const port&)> keep,
                           std::function<void()> then) {
    auto self = shared_from_this();
    client_.list_ports(filter, [=](result<std::vector<port>> ports) {
      if (!ports) return then();
      auto pending = std::make_shared<size_t>(1);
      auto one_done = [pending, then] {
        if (--*pending == 0) then();
      };
      for (const auto& p : *ports)
        if (p.device_id.empty() && p.device_owner.empty() && keep(p)) {
          ++*pending;
          self->client_.delete_port(p.id, [one_done](result<openstack::done>) { one_done(); });
        }
      one_done();
    });
  }

  /// Deletes the ports a deleted server was booted with: Nova leaves ports it was given. They
  /// are the ports bound to it before its delete (`bound`) and the unbound ones carrying its
  /// ownership tags: after a crash between the server's end and its ports' deletes, the retried
  /// command finds the server gone and its port bound to nothing, and only the tags still name
  /// it. The server counts as gone only once every such port is.
  void delete_server_ports(const std::vector<std::string>& bound,
                           const std::vector<std::string>& tags, callback<openstack::done> cb) {
    auto self = shared_from_this();
    auto remove_all = [self, cb](std::vector<std::string> ids) {
      auto outcome = std::make_shared<result<openstack::done>>(openstack::done{});
      auto pending = std::make_shared<size_t>(ids.size() + 1);
      auto one_done = [pending, outcome, cb] {
        if (--*pending == 0) cb(*outcome);
      };
      for (const auto& port_id : ids)
        self->client_.delete_port(port_id, [outcome, one_done](result<openstack::done> r) {
          if (!r && r.error().kind != os_error_kind::not_found && *outcome) *outcome = r.error();
          one_done();
        });
      one_done();
    };
    auto identity = identity_tags(tags);
    if (identity.empty()) return remove_all(bound);
    port_filter filter;
    filter.tags = identity;
    client_.list_ports(filter, [bound, remove_all, cb](result<std::vector<port>> tagged) {
      if (!tagged) return cb(tagged.error());
      auto ids = bound;
      for (const auto& p : *tagged)
        if (p.device_id.empty() && std::find(ids.begin(), ids.end(), p.id) == ids.end())
          ids.push_back(p.id);
      remove_all(std::move(ids));
    });
  }

  void exec(const delete_resource& c, const command_callback& done) {
    auto self = shared_from_this();
    auto kind = c.kind;
    auto logical = c.logical_name;
    auto id = c.id;
    auto finish = [=](result<openstack::done> r) {
      if (!r) return fail(done, kind, logical, r.error());
      done(gone_result{kind, logical, {}});
    };
    auto no_sweep = [](std::function<void()> then) { then(); };
    switch (kind) {
      case resource_kind::server: {
        port_filter filter;
        filter.device_id = id;
        client_.list_ports(filter, [=, tags = c.tags](result<std::vector<port>> ports) {
          auto bound = std::make_shared<std::vector<std::string>>();
          if (ports)
            for (const auto& p : *ports) bound->push_back(p.id);
          self->client_.delete_server(id, [=](result<openstack::done> r) {
            if (!r && r.error().kind != os_error_kind::not_found)
              return fail(done, kind, logical, r.error());
            self->await_gone(kind, id, self->deadline(self->cfg_.delete_timeout), [=](bool gone) {
              if (!gone)
                return fail(done, kind, logical, "timeout", "server " + id + " not gone in time");
              self->delete_server_ports(*bound, tags, [=](result<openstack::done> removed) {
                if (!removed) return fail(done, kind, logical, removed.error());
                done(gone_result{kind, logical, {}});
              });
            });
          });
        });
        return;
      }
      case resource_kind::volume:
        return delete_with_retries(
          [self, id](auto cb) { self->client_.delete_volume(id, cb); }, no_sweep,
          cfg_.conflict_retries,
          [=](result<openstack::done> r) {
            if (!r) return fail(done, kind, logical, r.error());
            self->await_gone(kind, id, self->deadline(self->cfg_.delete_timeout), [=](bool gone) {
              if (!gone)
                return fail(done, kind, logical, "timeout", "volume " + id + " not gone in time");
              done(gone_result{kind, logical, {}});
            });
          });
      case resource_kind::network:
        return delete_with_retries([self, id](auto cb) { self->client_.delete_network(id, cb); },
                                   [self, id](std::function<void()> then) {
                                     port_filter filter;
                                     filter.network_id = id;
                                     self->sweep_unbound_ports(
                                       filter, [](const port&) { return true; }, then);
                                   },
                                   cfg_.conflict_retries, finish);
      case resource_kind::subnet:
        return delete_with_retries([self, id](auto cb) { self->client_.delete_subnet(id, cb); },
                                   [self, id](std::function<void()> then) {
                                     self->sweep_unbound_ports(
                                       {}, [id](const port& p) { return has_fixed_ip_on(p, id); },
                                       then);
                                   },
                                   cfg_.conflict_retries, finish);
      case resource_kind::router:
        return delete_with_retries([self, id](auto cb) { self->client_.delete_router(id, cb); },
                                   no_sweep, cfg_.conflict_retries, finish);
      default:
        return fail(done, kind, logical, "internal",
                    "delete_resource of a link kind " + to_string(kind));
    }
  }

  openstack_commands_config cfg_;
  timer& timer_;
  clock& clock_;
  executor_function post_;
  client client_;
  status_poller poller_;
  random_source random_ = make_random();
  /// Server or volume id -> the poller waiters of its wait commands, for `cancel`.
  std::multimap<std::string, waiter_id> waits_;
  /// Flavor and image names resolved to ids (`resolve_name`).
  std::map<std::string, cached_id> flavor_ids_;
  std::map<std::string, cached_id> image_ids_;
};

} // namespace

std::shared_ptr<cloud_commands> make_openstack_commands(openstack_commands_config cfg,
                                                        http_transport& transport, timer& timer,
                                                        clock& clock, executor_function post,
                                                        client_observer* observer) {
  return std::make_shared<openstack_commands>(std::move(cfg), transport, timer, clock,
                                              std::move(post), observer);
}

} // namespace orch::actors
