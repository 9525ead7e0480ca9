#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "orch/actors/cloud_commands.hpp"
#include "orch/openstack/client.hpp"
#include "orch/persistence/deployment_repository.hpp"

namespace orch::actors {

/// Kinds of cloud resources the orchestrator tags, in the order a cleanup deletes them.
enum class orphan_kind : uint8_t { server, volume, router, port, subnet, network };

/// API name (`server`, `volume`, ...).
std::string to_string(orphan_kind x);

/// Why a tagged resource counts as an orphan.
enum class orphan_reason : uint8_t {
  /// The deployment the tag names is DELETED.
  deployment_deleted,
  /// The repository has no deployment with the id the tag names (or the tag is no UUID).
  deployment_unknown,
};

/// API name (`deployment_deleted`, `deployment_unknown`).
std::string to_string(orphan_reason x);

/// One cloud resource carrying an ownership mark whose deployment is gone.
struct orphan {
  orphan_kind kind = orphan_kind::server;
  std::string id;
  std::string name;
  /// The text of the ownership mark, as found (not necessarily a UUID).
  std::string deployment_id;
  orphan_reason reason = orphan_reason::deployment_unknown;
};

/// Receives the orphans found, or why the search failed (`errc::unavailable` for the cloud,
/// `errc::store_unavailable` for the repository).
using orphans_callback = std::function<void(caf::expected<std::vector<orphan>>)>;

/// What a cleanup did: the orphans deleted, and those that could not be, with the cause.
struct orphan_cleanup_report {
  std::vector<orphan> deleted;
  std::vector<std::pair<orphan, std::string>> failed;
};

/// Finds and deletes the cloud resources this orchestrator created for deployments that are
/// DELETED or unknown in the repository. Callbacks run exactly once, on any thread.
class orphan_finder {
public:
  virtual ~orphan_finder();

  /// Lists every orphan of the cloud.
  virtual void list(orphans_callback cb) = 0;

  /// Lists the orphans, hands them to `started`, then deletes them in dependency order
  /// (servers, volumes, routers with their interfaces, ports, subnets, networks) and calls
  /// `finished`. When the search fails only `started` is called, with the error.
  virtual void cleanup(orphans_callback started,
                       std::function<void(orphan_cleanup_report)> finished)
    = 0;
};

/// Settings of the OpenStack `orphan_finder`.
struct openstack_orphan_finder_config {
  openstack::client_config client;
  /// Ownership mark: Neutron and Nova tags `<key>=<deployment id>`, Cinder metadata `<key>`.
  std::string owner_key = "orch-deployment";
  /// This installation's id (`orch-installation` mark). A resource marked with another
  /// installation's id is never an orphan here. One without the mark (made before installation
  /// ids existed) is ours only if its deployment is in our repository: an unknown deployment
  /// may be another installation's.
  std::string installation_id;
  std::string installation_key = "orch-installation";
  /// How often a deleted server or volume is checked for being gone.
  std::chrono::milliseconds poll_interval{1'000};
  /// A deleted server or volume must be gone within this.
  std::chrono::milliseconds delete_timeout{300'000};
  /// Neutron and Cinder refuse some deletes while dependants are still going away: such
  /// `conflict`s (and Cinder's `bad_request`) are retried this many times, `conflict_delay`
  /// apart.
  int conflict_retries = 20;
  std::chrono::milliseconds conflict_delay{500};
};

/// The `orphan_finder` of one OpenStack region. Owns an `openstack::client` over the given
/// ports; every client call runs through `post`, which must be the executor the ports deliver
/// on (the one `make_openstack_commands` was given). Repository reads block, so they run
/// through `run_blocking`, never on `post`. Ports and repository must outlive every function
/// posted.
std::shared_ptr<orphan_finder> make_openstack_orphan_finder(
  openstack_orphan_finder_config cfg, openstack::http_transport& transport, openstack::timer& timer,
  openstack::clock& clock, executor_function post, executor_function run_blocking,
  persistence::deployment_repository& repository, openstack::client_observer* observer = nullptr);

} // namespace orch::actors
