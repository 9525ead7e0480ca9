#pragma once

// Atoms and message types of the actors inside one node. None of them crosses nodes, so the
// domain types travel as local-only ("unsafe") message types instead of being serialized.

#include <vector>

#include <caf/all.hpp>

#include "orch/actors/deployment_engine.hpp"
#include "orch/actors/playbook_runner.hpp"
#include "orch/deployment/deployment_fsm.hpp"
#include "orch/persistence/configuration_run_repository.hpp"
#include "orch/persistence/deployment_repository.hpp"
#include "orch/uuid.hpp"

namespace orch::actors {

using run_atom = caf::atom_constant<caf::atom("run")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using claim_atom = caf::atom_constant<caf::atom("claim")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using append_atom = caf::atom_constant<caf::atom("append")>;
using unfinished_atom = caf::atom_constant<caf::atom("unfinished")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using configure_atom = caf::atom_constant<caf::atom("configure")>;
using configured_atom = caf::atom_constant<caf::atom("configured")>;
using interrupt_atom = caf::atom_constant<caf::atom("interrupt")>;
using running_atom = caf::atom_constant<caf::atom("running")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;

using uuid_list = std::vector<orch::uuid>;

} // namespace orch::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::uuid)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::uuid_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::deployment_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::input_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::deployment_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::deployment_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::persistence::stored_history)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::persistence::event_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::persistence::configuration_run)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::configure_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::playbook_run_result)
