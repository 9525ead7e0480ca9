#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <caf/expected.hpp>

#include "orch/deployment/events.hpp"
#include "orch/deployment/model.hpp"
#include "orch/openstack/resources.hpp"
#include "orch/time.hpp"

namespace orch {

// -- inputs ---------------------------------------------------------------------------------

/// Starts the deploy operation of a PENDING deployment.
struct start_deploy {
  timestamp at;
};

/// Starts deleting; a running operation is cancelled first.
struct start_delete {
  timestamp at;
};

/// Starts an update or a scale of a COMPLETED or FAILED deployment: records the new desired
/// state (`desired_changed`, generation + 1) first, then reconciles the recorded resources
/// with it (`plan_changes`).
struct start_update {
  /// `update` or `scale`.
  operation_type type = operation_type::update;
  /// The whole parameter set after the change.
  deployment_parameters parameters;
  /// The resolved template with `parameters` applied.
  template_spec spec;
  timestamp at;
};

/// Continues the running operation (IN_PROGRESS, UPDATING, SCALING or DELETING) of a machine
/// rebuilt from storage: open intents are looked up by tag first, then the operation goes on where
/// the record says it stands. Does nothing in other statuses: a PENDING deployment needs
/// `start_deploy`.
struct resume {
  timestamp at;
};

/// The answer of a `find_by_tag` command: the resource's cloud id, or `nullopt` if none exists.
struct lookup_result {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  std::optional<std::string> id;
  timestamp at;
};

/// A create (or link) command succeeded. `id` is the cloud id; for links the port or
/// attachment id, or empty.
struct create_result {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  std::string id;
  timestamp at;
};

/// A wait command saw its server ACTIVE or its volume available.
struct ready_result {
  resource_kind kind = resource_kind::server;
  std::string logical_name;
  std::string status;
  std::vector<std::string> addresses;
  timestamp at;
};

/// A delete (or unlink) command confirmed its resource gone; a 404 counts as gone.
struct gone_result {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  timestamp at;
};

/// A command failed for good (the actor already retried transient errors).
struct step_failed {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  /// Stable snake_case code, e.g. `quota_exceeded` or `timeout`.
  std::string code;
  std::string message;
  timestamp at;
};

/// A resize, confirm, revert or rebuild command ended (`resize_server`, `confirm_resize`,
/// `revert_resize`, `rebuild_server`): what Nova shows of the server now. `at_target`: its
/// flavor (resize, confirm, revert) or image (rebuild) is the one the command named. A
/// failed step still answers with the status it left the server in, and the failure in
/// `code` and `message` (empty when it went well).
struct change_result {
  std::string logical_name;
  /// `VERIFY_RESIZE`, `ACTIVE`, `ERROR`, ... as Nova shows it.
  std::string status;
  bool at_target = false;
  std::vector<std::string> addresses;
  std::string code;
  std::string message;
  timestamp at;
};

/// Starts a configuration run (Ansible) on a COMPLETED deployment: records the `configure`
/// operation and CONFIGURING. The actor runs the playbook; the machine only keeps the status.
struct start_configure {
  timestamp at;
};

/// The configuration run ended. `failed`: some host failed or was unreachable, or the run could
/// not finish (timeout), with `error` naming hosts and task: the deployment becomes FAILED.
/// `interrupted`: the orchestrator restarted during the run, so nothing is known about its
/// result: the operation fails with `error`, but the deployment returns to COMPLETED since its
/// resources are intact. Otherwise the deployment returns to COMPLETED.
struct configure_finished {
  timestamp at;
  bool failed = false;
  bool interrupted = false;
  std::optional<operation_error> error;
};

/// Everything `deployment_fsm::apply` accepts.
using input_event = std::variant<start_deploy, start_delete, resume, lookup_result, create_result,
                                 ready_result, gone_result, step_failed, start_update,
                                 start_configure, configure_finished, change_result>;

// -- commands -------------------------------------------------------------------------------

/// Append this event to the deployment's log (and, batched with the events before it, commit
/// it) BEFORE carrying out any command that follows it.
struct record_event {
  deployment_event event;
};

/// Look a resource up by its tags (Nova, Neutron) or metadata (Cinder) and answer with a
/// `lookup_result`.
struct find_by_tag {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  std::string cloud_name;
  std::vector<std::string> tags;
};

/// Create the network, then set `tags` on it; answer with `create_result`.
struct create_network {
  std::string logical_name;
  openstack::network_spec spec;
  std::vector<std::string> tags;
};

/// Create a subnet, then set `tags` on it; answer with `create_result`.
struct create_subnet {
  std::string logical_name;
  openstack::subnet_spec spec;
  std::vector<std::string> tags;
};

/// Create the router, then set `tags` on it; answer with `create_result`.
struct create_router {
  std::string logical_name;
  openstack::router_spec spec;
  std::vector<std::string> tags;
};

/// Resolve `external_network` (a name) and set it as the router's gateway; `create_result`.
struct set_router_gateway {
  std::string logical_name;
  std::string router_id;
  std::string external_network;
};

/// Add the router's interface on a subnet (an existing one counts as done); `create_result`.
struct add_router_interface {
  std::string logical_name;
  std::string router_id;
  std::string subnet_id;
};

/// Create a server (tags and metadata are in `spec`, its network in `spec.networks`) with its
/// address on `subnet_id`, the subnet of its group; answer with `create_result`.
struct create_server {
  std::string logical_name;
  openstack::server_spec spec;
  std::string subnet_id;
};

/// Wait for the server to become ACTIVE; `ready_result`, or `step_failed` on ERROR/timeout.
struct wait_server_active {
  std::string logical_name;
  std::string server_id;
};

/// Create a volume (ownership marks are in `spec.metadata`); answer with `create_result`.
struct create_volume {
  std::string logical_name;
  openstack::volume_spec spec;
};

/// Wait for the volume to become available; `ready_result`, or `step_failed`.
struct wait_volume_available {
  std::string logical_name;
  std::string volume_id;
};

/// Attach a volume to its server and wait until it is `in-use`; `create_result`.
struct attach_volume {
  std::string logical_name;
  std::string server_id;
  std::string volume_id;
};

/// Detach a volume from its server and wait until it is available; `gone_result`.
struct detach_volume {
  std::string logical_name;
  std::string server_id;
  std::string volume_id;
};

/// Remove the router's interface on a subnet; `gone_result`.
struct remove_router_interface {
  std::string logical_name;
  std::string router_id;
  std::string subnet_id;
};

/// Clear the router's external gateway; `gone_result`.
struct clear_router_gateway {
  std::string logical_name;
  std::string router_id;
};

/// Delete a network, subnet, router, server or volume and wait until it is gone (404);
/// `gone_result`.
struct delete_resource {
  resource_kind kind = resource_kind::network;
  std::string logical_name;
  std::string id;
  /// The resource's ownership tags: a server's ports carry them too, and once the server is
  /// gone they are what still finds its ports.
  std::vector<std::string> tags;
};

/// Resize a server to `flavor` (a name or id) and wait until it leaves RESIZE; answer with
/// `change_result`. Reads the server first, so that a command sent again after a crash never
/// resizes twice: already VERIFY_RESIZE or on `flavor` is answered as is, RESIZE is waited
/// for.
struct resize_server {
  std::string logical_name;
  std::string server_id;
  std::string flavor;
};

/// Confirm the resize of a VERIFY_RESIZE server and wait until it is ACTIVE; `change_result`
/// (`at_target`: on `flavor`). A server already ACTIVE is answered as is.
struct confirm_resize {
  std::string logical_name;
  std::string server_id;
  std::string flavor;
};

/// Revert the resize of a VERIFY_RESIZE server and wait until it is ACTIVE; `change_result`
/// (`at_target`: back on `flavor`, the one before the resize). A server already ACTIVE is
/// answered as is.
struct revert_resize {
  std::string logical_name;
  std::string server_id;
  std::string flavor;
};

/// Rebuild a server from `image` (a name or id) and wait until it is ACTIVE; `change_result`.
/// A server already REBUILD is waited for, one ACTIVE on `image` answered as is.
struct rebuild_server {
  std::string logical_name;
  std::string server_id;
  std::string image;
};

/// Everything `deployment_fsm::apply` asks its actor to do. Commands in one answer without a
/// `record_event` between them may run in parallel (the actor bounds how many).
using deployment_command
  = std::variant<record_event, find_by_tag, create_network, create_subnet, create_router,
                 set_router_gateway, add_router_interface, create_server, wait_server_active,
                 create_volume, wait_volume_available, attach_volume, detach_volume,
                 remove_router_interface, clear_router_gateway, delete_resource, resize_server,
                 confirm_resize, revert_resize, rebuild_server>;

/// The logical name a command works on.
std::string logical_name_of(const deployment_command& cmd);

// -- the machine ----------------------------------------------------------------------------

/// Deploys, updates, scales and deletes one deployment. Pure: no clock (time comes in the
/// inputs), no I/O. The record it holds already includes every `record_event` it returned, so
/// the actor must persist those before it carries out the commands that follow them.
///
/// Deploy, update and scale reconcile the record with the desired spec: network, subnets,
/// router (+ gateway, + one interface per subnet), then what `plan_changes` lists (volumes of
/// VMs no longer desired detached and deleted before their servers; missing servers and
/// volumes created in parallel), waits, attachments, then COMPLETED. A kept VM whose flavor
/// differs from its group's is resized (intent, `resize_server`, `confirm_resize` once
/// VERIFY_RESIZE, its new flavor recorded once ACTIVE); one whose image differs is rebuilt
/// after that (intent, `rebuild_server`). A resize that fails in VERIFY_RESIZE is reverted,
/// then the operation FAILS; any other failed resize or rebuild fails it at once, the record
/// holding the flavor and image Nova shows. The steps already out still answer and are
/// recorded; a resize that reaches VERIFY_RESIZE after the failure is still confirmed. The VMs of
/// an operation change in parallel (the actor bounds how many at once). Delete, in reverse: detach
/// and delete volumes, delete servers, remove interfaces, clear the gateway, delete router,
/// subnets, network, then DELETED. What to do next is always derived from the record, so a
/// machine rebuilt from storage carries on where the last one stopped.
class deployment_fsm {
public:
  /// Takes over `state` as stored. Every open intent in it is treated as unverified: `resume`
  /// and `start_delete` look it up by tag before acting on that resource.
  /// `installation` (see `installation_tag_key`) goes on every resource it creates.
  explicit deployment_fsm(deployment_record state, std::string installation = {});

  /// The current state, including everything recorded so far.
  const deployment_record& state() const noexcept { return state_; }

  /// Applies `ev` and returns, in order, what the actor must do next. Errors (nothing changes
  /// then): `errc::conflict` for an input the current status does not allow (deploy twice,
  /// delete while DELETING, a result nobody waits for with a different id) and
  /// `errc::not_found` for a result about a resource the deployment does not have or plan, or
  /// a delete of a DELETED deployment.
  caf::expected<std::vector<deployment_command>> apply(const input_event& ev);

  /// Whether a command for `logical` is out and its answer not yet applied.
  bool is_pending(const std::string& logical) const { return pending_.count(logical) > 0; }

private:
  /// What a pending command does, to tell its result or failure apart.
  enum class step { lookup, create, wait, link, unlink, remove, resize, confirm, revert, rebuild };

  caf::expected<std::vector<deployment_command>> on(const start_deploy& ev);
  caf::expected<std::vector<deployment_command>> on(const start_delete& ev);
  caf::expected<std::vector<deployment_command>> on(const resume& ev);
  caf::expected<std::vector<deployment_command>> on(const lookup_result& ev);
  caf::expected<std::vector<deployment_command>> on(const create_result& ev);
  caf::expected<std::vector<deployment_command>> on(const ready_result& ev);
  caf::expected<std::vector<deployment_command>> on(const gone_result& ev);
  caf::expected<std::vector<deployment_command>> on(const step_failed& ev);
  caf::expected<std::vector<deployment_command>> on(const start_update& ev);
  caf::expected<std::vector<deployment_command>> on(const start_configure& ev);
  caf::expected<std::vector<deployment_command>> on(const configure_finished& ev);
  caf::expected<std::vector<deployment_command>> on(const change_result& ev);

  /// Appends a `record_event` for `data` and folds it into the state.
  void record(std::vector<deployment_command>& out, timestamp at, event_data data);

  /// The next commands of the running operation.
  std::vector<deployment_command> advance(timestamp at);
  std::vector<deployment_command> advance_deploy(timestamp at);
  std::vector<deployment_command> advance_delete(timestamp at);

  /// Queues the create of one planned resource unless something for it is pending: a lookup
  /// for an unverified open intent, else a new intent and the create.
  void want_create(std::vector<deployment_command>& out, timestamp at, resource_kind kind,
                   const std::string& logical);

  /// Queues the delete of a recorded resource (intent first) unless something for it is
  /// pending.
  void want_remove(std::vector<deployment_command>& out, timestamp at, resource_kind kind,
                   const std::string& logical, const std::string& id);

  /// Queues the next step of the resize or rebuild of a desired, recorded VM, derived from its
  /// recorded status, unless something for it is pending. Returns false if the VM is on its
  /// group's flavor and image and no change of it is under way.
  bool want_change(std::vector<deployment_command>& out, timestamp at, const vm_record& vm,
                   const std::string& logical);

  /// Queues `cmd` for `logical` unless something for it is pending.
  void want(std::vector<deployment_command>& out, step what, const std::string& logical,
            deployment_command cmd);

  /// The create command and the `resource_created` it will produce, for a planned resource.
  deployment_command make_create(resource_kind kind, const std::string& logical) const;
  resource_created make_record(resource_kind kind, const std::string& logical,
                               const std::string& id) const;

  /// Ends the running operation and moves to `to`.
  void finish(std::vector<deployment_command>& out, timestamp at, operation_status how,
              deployment_status to, std::optional<operation_error> error = std::nullopt);

  /// One resource the template asks for.
  struct planned {
    resource_kind kind = resource_kind::network;
    std::string logical_name;
    /// Servers, volumes and attachments: the VM's group, 1-based index; volumes: `k`.
    std::string group;
    int index = 0;
    int k = 0;
  };

  /// The network resources the template asks for, in deploy order.
  static std::vector<planned> make_plan(const template_spec& spec);

  /// A network resource of the plan, or a server, volume or attachment described by its
  /// logical name; `nullopt` if it is neither.
  std::optional<planned> find_planned(resource_kind kind, const std::string& logical) const;

  /// Whether the desired spec asks for this server, volume or attachment (as of the last
  /// `advance`).
  bool is_desired(const std::string& logical) const { return desired_.count(logical) > 0; }

  /// The template group of a planned server, volume or attachment.
  const vm_group_spec& group_of(const planned& p) const;

  /// The recorded id of the subnet named `subnet` in the template; empty if not recorded.
  std::string subnet_id(std::string_view subnet) const;

  deployment_command make_server(const planned& p) const;
  deployment_command make_volume(const planned& p) const;

  /// Whether `logical` is a resource of the plan or the record.
  bool is_known(resource_kind kind, const std::string& logical) const;

  /// The recorded cloud id of a resource; empty if not recorded (links: "x" if present).
  std::string recorded_id(resource_kind kind, const std::string& logical) const;

  std::string cloud_name(resource_kind kind, const std::string& logical) const;

  deployment_record state_;
  std::string installation_;
  /// The network part of the plan; servers and volumes come from `plan_changes`.
  std::vector<planned> plan_;
  /// Logical names of the desired servers, volumes and attachments.
  std::set<std::string> desired_;
  /// Logical name -> what its outstanding command does.
  std::map<std::string, step> pending_;
  /// Open intents that came with the stored state and have not been looked up yet.
  std::set<std::string> unverified_;
  /// Logical name -> why the resize being reverted failed, for the operation's error. Lost
  /// in a restart: the operation then fails with a generic `resize_reverted`.
  std::map<std::string, operation_error> revert_reasons_;
};

} // namespace orch
