#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "orch/deployment/deployment_fsm.hpp"
#include "orch/openstack/client.hpp"
#include "orch/openstack/status_poller.hpp"

namespace orch::actors {

/// Receives the outcome of one cloud command: a `create_result`, `ready_result`,
/// `gone_result`, `lookup_result` or `step_failed` for the deployment's state machine. The
/// `at` of the event is left for the deployment actor to stamp.
using command_callback = std::function<void(input_event)>;

/// Carries out the cloud commands of `deployment_fsm` against one cloud region. The cloud
/// actor is its only caller; implementations decide on which thread the work runs.
///
/// Contract: `done` is called exactly once, from any thread. Creates are idempotent: a
/// resource already carrying the command's ownership tags is answered as created instead of
/// being made twice, so a command re-issued after a crash never duplicates a resource. Links
/// already present count as made, and resources already gone as deleted.
class cloud_commands {
public:
  virtual ~cloud_commands();

  /// Carries out `cmd` of `deployment` (named in whatever the implementation logs about it).
  virtual void run(const uuid& deployment, deployment_command cmd, command_callback done) = 0;

  /// Gives up a `wait_server_active` or `wait_volume_available` sent with `run` whose answer
  /// nobody needs any more (its operation was cancelled): its `done` is then never called. A
  /// wait that already answered, and any other command, are left alone.
  virtual void cancel(const deployment_command& cmd);
};

/// Runs a function on the executor that drives the OpenStack client (a strand or an
/// `io_context` run by one thread). Callable from any thread.
using executor_function = std::function<void(std::function<void()>)>;

/// Settings of the OpenStack implementation of `cloud_commands`.
struct openstack_commands_config {
  openstack::client_config client;
  openstack::status_poller_config poller;
  /// A server must be ACTIVE this long after the wait began (`VM_BOOT_TIMEOUT`).
  std::chrono::milliseconds boot_timeout{600'000};
  /// Volume create, attach and detach.
  std::chrono::milliseconds volume_timeout{300'000};
  /// A deleted server or volume must be gone (404) within this.
  std::chrono::milliseconds delete_timeout{300'000};
  /// Neutron refuses to delete a subnet or network while ports of a just deleted server are
  /// still being cleaned up: such `conflict`s are retried this many times, `conflict_delay`
  /// apart.
  int conflict_retries = 20;
  std::chrono::milliseconds conflict_delay{500};
  /// A command that failed transiently after the client's own retries (a 5xx, a create whose
  /// answer was lost, a rate limit, an open circuit breaker) runs again, with the client's
  /// backoff, until this long after it first began. Safe because every command reconciles by
  /// tag first; permanent errors (quota, 400, auth) are never repeated.
  std::chrono::milliseconds transient_retry_deadline{300'000};
};

/// The `cloud_commands` of one OpenStack region: owns an `openstack::client` and a batched
/// `openstack::status_poller` over the given ports. Every client call and callback runs
/// through `post`, which must run functions one at a time on the executor the ports deliver
/// on. The ports must outlive every function posted.
std::shared_ptr<cloud_commands>
make_openstack_commands(openstack_commands_config cfg, openstack::http_transport& transport,
                        openstack::timer& timer, openstack::clock& clock, executor_function post,
                        openstack::client_observer* observer = nullptr);

} // namespace orch::actors
