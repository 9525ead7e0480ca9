#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orch/openstack/circuit_breaker.hpp"
#include "orch/openstack/errors.hpp"
#include "orch/openstack/http_transport.hpp"
#include "orch/openstack/keystone.hpp"
#include "orch/openstack/resources.hpp"
#include "orch/openstack/retry.hpp"

namespace orch {

struct openstack_config;

} // namespace orch

namespace orch::openstack {

/// Settings of one `client` (one cloud, one project, one region).
struct client_config {
  password_credentials credentials;
  std::string region = "RegionOne";
  /// Catalog interface: `public`, `internal` or `admin`.
  std::string interface = "public";
  /// `OPENSTACK_ENDPOINT_ALLOWLIST` entries; see `endpoint_allowlist`.
  std::vector<std::string> endpoint_allowlist;
  retry_policy retry;
  breaker_config breaker;
  /// Calls in flight to this cloud at most (auth calls excluded).
  std::size_t max_in_flight = 8;
  /// Re-authenticate this long before the token's lifetime ends.
  std::chrono::milliseconds token_refresh_margin{300'000};
  /// Per attempt, passed to the transport.
  std::chrono::milliseconds call_timeout{30'000};
  std::string compute_microversion = "2.90";
  std::string volume_microversion = "3.60";
  /// Guard against a cloud that never stops sending `next` links.
  std::size_t max_pages = 10'000;
};

/// What the client reports about every attempt it sends (or refuses to send), for
/// `openstack_api_calls_total{service,method,status}` and latency histograms. Holds no URL,
/// header or body, hence no credential.
struct call_report {
  service svc = service::compute;
  /// HTTP method.
  std::string method;
  /// HTTP status; 0 when no response arrived.
  int status = 0;
  /// Set unless the attempt succeeded.
  std::optional<os_error_kind> error;
  /// The transport error, when that is why no response arrived.
  std::optional<transport_error> transport;
  std::chrono::milliseconds latency{0};
  /// 1 for the first attempt of a call.
  int attempt = 1;
};

/// The client settings for the cloud that `OPENSTACK_*` describes; everything not set there
/// (retries, breaker, limits) keeps its default.
client_config make_client_config(const orch::openstack_config& cfg);

/// The `status` label: the HTTP status (`"503"`), else the transport error (`"timeout"`),
/// else the error kind (`"circuit_open"`).
std::string status_label(const call_report& report);

/// Receives the client's metrics events. Every member defaults to doing nothing.
class client_observer {
public:
  virtual ~client_observer();

  /// One attempt finished (or was refused by the breaker).
  virtual void on_call(const call_report& report);

  /// A retry of a call to `svc` was scheduled `delay` from now because of `error`.
  virtual void on_retry(service svc, const os_error& error, std::chrono::milliseconds delay);

  /// The breaker of `svc` changed state.
  virtual void on_breaker_change(service svc, breaker_state state);

  /// A new token was obtained (`after_401`: forced by a 401 rather than by age).
  virtual void on_authenticated(bool after_401);
};

/// Callback of an operation returning `T`.
template <class T>
using callback = std::function<void(result<T>)>;

/// Asynchronous OpenStack REST client over the `http_transport`, `timer` and `clock` ports.
///
/// - Keystone v3 password auth; the token is cached until `token_refresh_margin` before its
///   lifetime ends; one refresh serves all callers waiting for it (single flight).
/// - A 401 from any service re-authenticates once and repeats the call once (keystonemiddleware
///   rejects before the service acts, so this holds for POSTs too); a second 401 is `auth`.
/// - Endpoints come from the catalog by type, region and interface, and only those the
///   allowlist admits are called (else `endpoint_refused`).
/// - Failures are retried as `decide_retry` documents, with the timer port; a non-idempotent
///   call whose answer was lost yields `outcome_unknown` and is sent once.
/// - One circuit breaker per service, one `governor` for the cloud.
/// - Delete operations count 404 as done (already gone).
///
/// Threading: not thread-safe; call it and deliver port callbacks on one execution context.
/// Callbacks run on that context, possibly before the operation returns. Destroying the
/// client drops pending callbacks without calling them.
class client {
public:
  client(client_config config, http_transport& transport, timer& timer, clock& clock,
         random_source random, client_observer* observer = nullptr);

  ~client();

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // -- generic ----------------------------------------------------------------------------

  /// Sends `method` to `path` (appended to the service's catalog URL, may include a query)
  /// with auth, retries, breaker and governor applied; any 2xx is a success. `action` names
  /// the logical operation for the idempotency rules (`is_idempotent`).
  void call(service svc, std::string method, std::string path, std::string body, std::string action,
            callback<http_result> cb);

  // -- Neutron ----------------------------------------------------------------------------

  void create_network(const network_spec& spec, callback<network> cb);
  void get_network(const std::string& id, callback<network> cb);
  void delete_network(const std::string& id, callback<done> cb);
  /// Networks carrying all `tags`, every page.
  void find_networks_by_tags(const std::vector<std::string>& tags,
                             callback<std::vector<network>> cb);

  void create_subnet(const subnet_spec& spec, callback<subnet> cb);
  void delete_subnet(const std::string& id, callback<done> cb);
  void find_subnets_by_tags(const std::vector<std::string>& tags, callback<std::vector<subnet>> cb);

  void create_router(const router_spec& spec, callback<router> cb);
  /// Sets (or with `nullopt` clears) the router's external gateway.
  void set_router_gateway(const std::string& router_id,
                          const std::optional<std::string>& external_network_id,
                          callback<router> cb);
  void add_router_interface(const std::string& router_id, const std::string& subnet_id,
                            callback<router_interface> cb);
  void remove_router_interface(const std::string& router_id, const std::string& subnet_id,
                               callback<router_interface> cb);
  void delete_router(const std::string& id, callback<done> cb);
  void find_routers_by_tags(const std::vector<std::string>& tags, callback<std::vector<router>> cb);

  void list_ports(const port_filter& filter, callback<std::vector<port>> cb);
  void delete_port(const std::string& id, callback<done> cb);

  /// Replaces all tags of a Neutron resource (`PUT .../tags`).
  void replace_tags(neutron_collection collection, const std::string& id,
                    const std::vector<std::string>& tags, callback<std::vector<std::string>> cb);

  // -- Nova -------------------------------------------------------------------------------

  void create_server(const server_spec& spec, callback<created_server> cb);
  void get_server(const std::string& id, callback<server> cb);
  /// `GET /servers/detail` with `filters`, following every page; with a `name` filter only
  /// exact matches are kept.
  void list_servers_detail(const server_filters& filters, callback<std::vector<server>> cb);
  void delete_server(const std::string& id, callback<done> cb);
  /// Sends a server action (`resize`, `confirmResize`, `revertResize`, `rebuild`). Never
  /// repeated after a lost answer (`outcome_unknown`): read the server's state instead.
  void run_server_action(const std::string& id, const server_action& action, callback<done> cb);
  void replace_server_tags(const std::string& id, const std::vector<std::string>& tags,
                           callback<std::vector<std::string>> cb);
  /// Attaches through Nova. At microversion 2.101+ Nova answers 202 without a body; the
  /// result then holds only the ids.
  void attach_volume(const std::string& server_id, const std::string& volume_id,
                     bool delete_on_termination, callback<volume_attachment> cb);
  void detach_volume(const std::string& server_id, const std::string& volume_id, callback<done> cb);
  void list_volume_attachments(const std::string& server_id,
                               callback<std::vector<volume_attachment>> cb);
  void list_flavors(callback<std::vector<flavor>> cb);
  /// The flavor named exactly `name`; `not_found` if none.
  void find_flavor(const std::string& name, callback<flavor> cb);

  // -- Cinder -----------------------------------------------------------------------------

  void create_volume(const volume_spec& spec, callback<volume> cb);
  void get_volume(const std::string& id, callback<volume> cb);
  void delete_volume(const std::string& id, callback<done> cb);
  void list_volumes(const volume_filters& filters, callback<std::vector<volume>> cb);

  // -- Glance -----------------------------------------------------------------------------

  /// The active image named exactly `name`, the newest if several; `not_found` if none.
  void find_image(const std::string& name, callback<image> cb);

  // -- state ------------------------------------------------------------------------------

  breaker_state breaker(service svc) const;
  std::size_t in_flight() const;
  std::size_t waiting() const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace orch::openstack
