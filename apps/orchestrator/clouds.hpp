#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "orch/http/client_transport.hpp"
#include "orch/openstack/client.hpp"
#include "orch/persistence/cloud_repository.hpp"
#include "orch/secret_keyring.hpp"

namespace orch::app {

/// `orchestrator clouds add REGION … | list | remove REGION | reencrypt`: manages the OpenStack
/// regions stored in the database. The password or application credential secret comes from
/// `in` (stdin) or `--password-file`, never from the arguments (they show in `ps`), and is
/// stored sealed by `keys`. Returns the process exit status: 0, 1 when the database refuses,
/// 2 for a usage error.
int run_clouds_command(persistence::cloud_repository& repo, const secret_keyring& keys,
                       const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                       std::ostream& err);

/// The usage text of `orchestrator clouds`.
void print_clouds_usage(std::ostream& out);

/// One stored region, opened: what `serve` needs to build its OpenStack client stack.
struct opened_cloud {
  std::string region;
  openstack::client_config client;
  http::client_transport_config transport;
};

/// Every stored region with its secret opened by `keys`. Fails on the first region whose
/// secret does not open, naming the region and the key version (never the secret).
caf::expected<std::vector<opened_cloud>> open_stored_clouds(persistence::cloud_repository& repo,
                                                            const secret_keyring& keys);

} // namespace orch::app
