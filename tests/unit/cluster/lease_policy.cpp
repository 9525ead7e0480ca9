#include "orch/cluster/lease_policy.hpp"

#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
using orch::cluster::lease_guard;
using orch::cluster::lease_timing;
using orch::cluster::node_state;

BOOST_AUTO_TEST_SUITE(lease_policy)

BOOST_AUTO_TEST_CASE(the_safety_margin_is_two_heartbeats_at_most_half_a_lease) {
  BOOST_TEST((lease_timing{1s, 10s}.safety_margin() == 2s));
  BOOST_TEST((lease_timing{1s, 3s}.safety_margin() == 1500ms));
}

BOOST_AUTO_TEST_CASE(timings_that_lose_leases_to_one_slow_heartbeat_are_refused) {
  BOOST_TEST(!check(lease_timing{1s, 10s}));
  BOOST_TEST(!check(lease_timing{100ms, 300ms}));
  BOOST_TEST(check(lease_timing{1s, 2s}).value_or("").find("three") != std::string::npos);
  BOOST_TEST(check(lease_timing{10ms, 1s}).has_value());
}

BOOST_AUTO_TEST_CASE(a_node_stops_acting_before_its_leases_can_run_out) {
  lease_guard::clock::time_point t0{};
  lease_guard guard{lease_timing{1s, 10s}, t0};
  BOOST_TEST(guard.healthy(t0 + 2s));
  BOOST_TEST(!guard.must_stop(t0 + 7999ms));
  // Lease 10 s, margin 2 s: the node stops 2 s before the database lets others take over.
  BOOST_TEST(guard.must_stop(t0 + 8s));
  BOOST_TEST(!guard.healthy(t0 + 3s));
}

BOOST_AUTO_TEST_CASE(a_renewal_counts_from_its_attempt_not_its_answer) {
  lease_guard::clock::time_point t0{};
  lease_guard guard{lease_timing{1s, 10s}, t0};
  // The renewal left at 5 s and was answered much later: the lease runs from 5 s at the latest.
  guard.renewed(t0 + 5s);
  BOOST_TEST(!guard.must_stop(t0 + 12999ms));
  BOOST_TEST(guard.must_stop(t0 + 13s));
  // An older attempt answered late moves nothing back.
  guard.renewed(t0 + 1s);
  BOOST_TEST(!guard.must_stop(t0 + 12999ms));
}

BOOST_AUTO_TEST_CASE(nodes_read_as_live_silent_or_left) {
  lease_timing t{1s, 10s};
  BOOST_TEST((state_of(500ms, false, t) == node_state::live));
  BOOST_TEST((state_of(9999ms, false, t) == node_state::live));
  BOOST_TEST((state_of(10s, false, t) == node_state::silent));
  BOOST_TEST((state_of(1s, true, t) == node_state::left));
  BOOST_TEST(std::string{to_string(node_state::silent)} == "silent");
}

BOOST_AUTO_TEST_SUITE_END()
