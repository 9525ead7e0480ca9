// The prometheus observer fed by a real client run, and the readiness it derives.

#include "orch/http/openstack_metrics.hpp"

#include <chrono>
#include <map>
#include <string>

#include <boost/test/unit_test.hpp>
#include <prometheus/registry.h>

#include "sim_fixture.hpp"

using namespace orch::openstack;
using namespace orch::openstack::testing;
using namespace std::chrono_literals;

namespace {

/// The value of the sample of `family` whose labels include all of `labels` (histograms:
/// the sample count); -1 if there is none.
double sample(prometheus::Registry& registry, const std::string& family,
              const std::map<std::string, std::string>& labels) {
  for (auto& fam : registry.Collect()) {
    if (fam.name != family) continue;
    for (auto& m : fam.metric) {
      bool match = true;
      for (auto& [k, v] : labels) {
        bool found = false;
        for (auto& l : m.label) found = found || (l.name == k && l.value == v);
        match = match && found;
      }
      if (!match) continue;
      switch (fam.type) {
        case prometheus::MetricType::Counter: return m.counter.value;
        case prometheus::MetricType::Gauge: return m.gauge.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(m.histogram.sample_count);
        default: return -1;
      }
    }
  }
  return -1;
}

} // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(calls_retries_and_breaker_states_are_exported_and_drive_readiness) {
  sim_process sim;
  prometheus::Registry registry;
  orch::http::openstack_metrics uut{registry};
  auto cfg = client_env::default_config(sim);
  cfg.retry.max_attempts = 2;
  cfg.retry.base_delay = 10ms;
  cfg.breaker.failure_threshold = 2;
  cfg.breaker.open_duration = 500ms;
  boost::asio::io_context ioc;
  auto transport = std::move(*orch::http::client_transport::make(ioc.get_executor(), {}));
  client os{cfg, *transport, *transport, *transport, [] { return 0.5; }, &uut};
  auto run = [&](auto start) {
    std::optional<bool> ok;
    start([&](auto r) { ok = r.ok(); });
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!ok && std::chrono::steady_clock::now() < deadline) {
      if (ioc.stopped()) ioc.restart();
      ioc.run_one_for(50ms);
    }
    BOOST_REQUIRE(ok.has_value());
    return *ok;
  };
  BOOST_TEST(uut.readiness().detail == "auth=unknown");
  BOOST_TEST(run([&](auto cb) { os.find_image("cirros", cb); }));
  BOOST_TEST(uut.readiness().ok);
  BOOST_TEST(uut.readiness().detail == "auth=ok");
  BOOST_TEST(sample(registry, "openstack_api_calls_total",
                    {{"service", "image"}, {"method", "GET"}, {"status", "200"}})
             == 1);
  BOOST_TEST(sample(registry, "openstack_api_calls_total",
                    {{"service", "identity"}, {"method", "POST"}, {"status", "201"}})
             == 1);
  BOOST_TEST(sample(registry, "openstack_api_call_duration_seconds", {{"service", "image"}}) == 1);

  sim.add_fault(R"({"route": "/image/v2/images", "method": "GET", "status": 503})");
  BOOST_TEST(!run([&](auto cb) { os.find_image("cirros", cb); }));
  BOOST_TEST(sample(registry, "openstack_api_calls_total",
                    {{"service", "image"}, {"method", "GET"}, {"status", "503"}})
             == 2);
  BOOST_TEST(sample(registry, "openstack_api_retries_total", {{"service", "image"}}) == 1);
  BOOST_TEST(sample(registry, "openstack_circuit_breaker_state", {{"service", "image"}}) == 2);
  BOOST_TEST(sample(registry, "openstack_circuit_breaker_state", {{"service", "compute"}}) == 0);
  auto st = uut.readiness();
  BOOST_TEST(!st.ok);
  BOOST_TEST(st.detail == "auth=ok; open breakers: image");
  std::optional<std::pair<bool, std::string>> checked;
  uut.readiness_check()([&](bool ok, std::string detail) { checked.emplace(ok, detail); });
  BOOST_REQUIRE(checked.has_value());
  BOOST_TEST(!checked->first);

  sim.clear_faults();
  auto wait_until = std::chrono::steady_clock::now() + 600ms;
  while (std::chrono::steady_clock::now() < wait_until) ioc.run_one_for(50ms);
  BOOST_TEST(run([&](auto cb) { os.find_image("cirros", cb); }));
  BOOST_TEST(sample(registry, "openstack_circuit_breaker_state", {{"service", "image"}}) == 0);
  BOOST_TEST(uut.readiness().ok);
}

BOOST_AUTO_TEST_CASE(failed_authentication_makes_the_cloud_unready) {
  sim_process sim;
  prometheus::Registry registry;
  orch::http::openstack_metrics uut{registry};
  auto cfg = client_env::default_config(sim);
  cfg.credentials.password = "not-the-password";
  client_env env{sim, cfg};
  // A second client of the same environment reports to the metrics under test.
  client os{cfg, *env.transport, *env.transport, *env.transport, [] { return 0.5; }, &uut};
  std::optional<result<image>> got;
  os.find_image("cirros", [&](result<image> r) { got.emplace(std::move(r)); });
  BOOST_REQUIRE(env.run_until([&] { return got.has_value(); }));
  BOOST_TEST(!got->ok());
  auto st = uut.readiness();
  BOOST_TEST(!st.ok);
  BOOST_TEST(st.detail == "auth=failed");
  BOOST_TEST(st.detail.find("not-the-password") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
