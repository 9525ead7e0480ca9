#include "sim_fixture.hpp"

#include <stdexcept>
#include <unistd.h>

#include <boost/beast/http/verb.hpp>

#include "orch/openstack/url.hpp"
#include "orch/testing/http_client.hpp"

namespace orch::openstack::testing {

namespace {

boost::beast::http::verb to_verb(const std::string& method) {
  return boost::beast::http::string_to_verb(method);
}

} // namespace

sim_process::sim_process(std::vector<std::string> flags) {
  static int counter = 0;
  log_path_ = "/tmp/orch-openstack-sim-" + std::to_string(::getpid()) + "-"
              + std::to_string(++counter) + ".log";
  std::vector<std::string> argv{ORCH_OPENSTACK_SIM, "--port", "0"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  proc_ = std::make_unique<orch::testing::child_process>(argv, std::map<std::string, std::string>{},
                                                         log_path_);
  BOOST_REQUIRE_MESSAGE(proc_->wait_for_log("http://127.0.0.1:", std::chrono::seconds{20}),
                        "openstack-sim did not start: " << proc_->log());
  auto log = proc_->log();
  auto start = log.find("http://127.0.0.1:");
  auto end = log.find_first_of("\r\n", start);
  BOOST_REQUIRE(end != std::string::npos || start != std::string::npos);
  base_url_ = log.substr(start, end == std::string::npos ? std::string::npos : end - start);
  auto url = parse_url(base_url_);
  BOOST_REQUIRE_MESSAGE(url.has_value(), "bad base URL " << base_url_);
  port_ = url->port;
}

std::pair<int, std::string> sim_process::control(const std::string& method,
                                                 const std::string& target,
                                                 const std::string& body) {
  orch::testing::http_client http{"127.0.0.1", port_, std::chrono::seconds{10}};
  auto res = http.request(to_verb(method), target, body);
  return {static_cast<int>(res.result_int()), res.body()};
}

std::string sim_process::add_fault(const std::string& rule) {
  auto [status, body] = control("POST", "/_sim/faults", rule);
  BOOST_REQUIRE_MESSAGE(status == 201, "fault rule refused: " << status << " " << body);
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  auto& fault = doc["fault"];
  return fault["id"].IsString() ? fault["id"].GetString() : std::to_string(fault["id"].GetInt64());
}

void sim_process::clear_faults() {
  control("DELETE", "/_sim/faults");
}

int64_t sim_process::calls(const std::string& method, const std::string& route) {
  auto [status, body] = control("GET", "/_sim/calls");
  BOOST_REQUIRE(status == 200);
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  int64_t n = 0;
  for (auto& c : doc["calls"].GetArray())
    if (c["method"].GetString() == method && c["route"].GetString() == route)
      n += c["count"].GetInt64();
  return n;
}

void sim_process::reset_calls() {
  control("DELETE", "/_sim/calls");
}

rapidjson::Document sim_process::state() {
  auto [status, body] = control("GET", "/_sim/state");
  BOOST_REQUIRE(status == 200);
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  return doc;
}

client_config client_env::default_config(const sim_process& sim) {
  client_config cfg;
  cfg.credentials.auth_url = sim.auth_url();
  cfg.credentials.username = "admin";
  cfg.credentials.password = "secret";
  cfg.credentials.project_name = "admin";
  cfg.credentials.user_domain_name = "Default";
  cfg.credentials.project_domain_name = "Default";
  cfg.call_timeout = std::chrono::seconds{10};
  return cfg;
}

client_env::client_env(const sim_process& sim, client_config cfg,
                       orch::http::client_transport_config tcfg) {
  if (cfg.credentials.auth_url.empty()) {
    auto defaults = default_config(sim);
    cfg.credentials = defaults.credentials;
  }
  auto made = orch::http::client_transport::make(ioc.get_executor(), std::move(tcfg));
  BOOST_REQUIRE(static_cast<bool>(made));
  transport = std::move(*made);
  os.emplace(
    std::move(cfg), *transport, *transport, *transport, [] { return 0.5; }, &observer);
}

bool client_env::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds{50});
  }
  return true;
}

server_spec tiny_server(const std::string& name, const std::string& image_id) {
  server_spec spec;
  spec.name = name;
  spec.flavor_ref = "1";
  spec.image_ref = image_id;
  return spec;
}

} // namespace orch::openstack::testing
