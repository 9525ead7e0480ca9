// CPU per input of `deployment_fsm` for a deploy of N VMs and a scale to 2N, against a cloud
// that answers at once: what the deployment actor spends deciding, without I/O. Prints one line
// per result: `fsm.<operation> vms=<n> inputs=<k> us_per_input=<x>`.

#include <chrono>
#include <cstdio>
#include <deque>
#include <initializer_list>
#include <variant>

#include "orch/deployment/deployment_fsm.hpp"

namespace {

using namespace orch;

struct runner {
  deployment_fsm uut;
  std::deque<deployment_command> queue;
  long inputs = 0;
  double seconds = 0;

  bool feed(const input_event& ev) {
    auto t0 = std::chrono::steady_clock::now();
    auto cmds = uut.apply(ev);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++inputs;
    if (!cmds) return false;
    for (auto& cmd : *cmds)
      if (!std::holds_alternative<record_event>(cmd)) queue.push_back(std::move(cmd));
    return true;
  }

  // Answers every command with success until none is left.
  bool run() {
    while (!queue.empty()) {
      auto cmd = std::move(queue.front());
      queue.pop_front();
      auto logical = logical_name_of(cmd);
      bool ok = true;
      if (std::holds_alternative<wait_server_active>(cmd))
        ok = feed(ready_result{resource_kind::server, logical, "ACTIVE", {}, {}});
      else if (const auto* del = std::get_if<delete_resource>(&cmd))
        ok = feed(gone_result{del->kind, logical, {}});
      else if (std::holds_alternative<create_network>(cmd))
        ok = feed(create_result{resource_kind::network, logical, "id-" + logical, {}});
      else if (std::holds_alternative<create_subnet>(cmd))
        ok = feed(create_result{resource_kind::subnet, logical, "id-" + logical, {}});
      else if (std::holds_alternative<create_server>(cmd))
        ok = feed(create_result{resource_kind::server, logical, "id-" + logical, {}});
      else
        return false; // the template below needs nothing else
      if (!ok) return false;
    }
    return true;
  }

  double us_per_input() const {
    return inputs == 0 ? 0.0 : 1e6 * seconds / static_cast<double>(inputs);
  }
};

} // namespace

int main() {
  for (int n : {10, 100, 1000}) {
    deployment_record rec;
    rec.id = *uuid::parse("6f1c2a3b-0000-4000-8000-000000000001");
    rec.name = "bench";
    rec.spec.name = "bench";
    rec.spec.vm_config = {{"web", {"m1.small", "ubuntu-22.04", n, std::nullopt, {}}}};
    rec.spec.network_config.cidr = "10.0.0.0/16";
    rec.spec.network_config.subnets = {{"web", "10.0.1.0/24"}};
    runner deploy{deployment_fsm{rec}, {}, 0, 0.0};
    if (!deploy.feed(start_deploy{}) || !deploy.run()) return 1;
    std::printf("fsm.deploy vms=%d inputs=%ld us_per_input=%.1f\n", n, deploy.inputs,
                deploy.us_per_input());
    auto spec = deploy.uut.state().spec;
    spec.vm_config.front().second.count = 2 * n;
    runner scale{deployment_fsm{deploy.uut.state()}, {}, 0, 0.0};
    if (!scale.feed(start_update{operation_type::scale, {}, spec, {}}) || !scale.run()) return 1;
    std::printf("fsm.scale vms=%d->%d inputs=%ld us_per_input=%.1f\n", n, 2 * n, scale.inputs,
                scale.us_per_input());
  }
  return 0;
}
