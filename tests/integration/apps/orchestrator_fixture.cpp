#include "orchestrator_fixture.hpp"

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

namespace orch::testing {

namespace {

// Replaces the database name (the path) of a postgresql:// URL.
std::string with_database(const std::string& url, const std::string& name) {
  auto scheme_end = url.find("://");
  auto path = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  auto query = url.find('?', path == std::string::npos ? 0 : path);
  std::string base = path == std::string::npos ? url : url.substr(0, path);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + name + rest;
}

std::string random_suffix() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  std::ostringstream out;
  out << std::hex << dist(rd);
  return out.str();
}

} // namespace

scratch_database::scratch_database()
  : admin_url_(required_env("DATABASE_URL")), name_("orch_it_" + random_suffix()) {
  pqxx::connection conn{admin_url_};
  pqxx::nontransaction tx{conn};
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  url_ = with_database(admin_url_, name_);
}

scratch_database::~scratch_database() {
  try {
    pqxx::connection conn{admin_url_};
    pqxx::nontransaction tx{conn};
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    BOOST_TEST_MESSAGE("cannot drop scratch database " << name_ << ": " << e.what());
  }
}

std::string scratch_database::query_value(const std::string& sql) const {
  pqxx::connection conn{url_};
  pqxx::nontransaction tx{conn};
  auto rows = tx.exec(sql);
  return rows.empty() || rows[0][0].is_null() ? std::string{} : rows[0][0].c_str();
}

std::map<std::string, std::string> base_env() {
  return {
    {"API_HOST", "127.0.0.1"},
    {"API_KEYS", std::string{write_key} + ":write," + read_key + ":read"},
    {"SECRET_KEY", secret_key},
    {"LOG_FORMAT", "json"},
    {"LOG_LEVEL", "debug"},
    {"DATABASE_POOL_SIZE", "4"},
    {"PATH", "/usr/bin:/bin"},
    // One name for every incarnation: a restarted test node takes its own leases back at once
    // instead of waiting for them to run out (the default name carries the port, new each time).
    {"NODE_ID", "test-node"},
  };
}

orchestrator_fixture::orchestrator_fixture(std::map<std::string, std::string> extra_env)
  : env_(base_env()), db_(std::make_unique<scratch_database>()), port_(free_port()) {
  env_["DATABASE_URL"] = db_->url();
  env_["API_PORT"] = std::to_string(port_);
  for (auto& [k, v] : extra_env) env_[k] = v;
  launch();
}

void orchestrator_fixture::launch() {
  // A restarted node logs to a file of its own: the killed one's log tells what it did.
  auto log = "orchestrator-" + std::to_string(port_)
             + (launches_ == 0 ? "" : "-" + std::to_string(launches_)) + ".log";
  ++launches_;
  process_ = std::make_unique<child_process>(
    std::vector<std::string>{ORCH_ORCHESTRATOR_BIN, "serve"}, env_, log);
  if (!process_->wait_for_log("listening on", std::chrono::seconds{30}))
    throw std::runtime_error("orchestrator did not start:\n" + process_->log());
}

int orchestrator_fixture::kill_and_restart() {
  auto rc = process_->stop(SIGKILL, std::chrono::seconds{10});
  launch();
  return rc;
}

orchestrator_fixture::~orchestrator_fixture() {
  if (!stopped_) {
    auto rc = stop();
    BOOST_CHECK_MESSAGE(rc == 0, "orchestrator exited with " << rc << " on SIGTERM");
  }
}

int orchestrator_fixture::stop() {
  stopped_ = true;
  return process_->stop(SIGTERM, std::chrono::seconds{20});
}

std::unique_ptr<http_client> orchestrator_fixture::client() const {
  return std::make_unique<http_client>("127.0.0.1", port_, std::chrono::seconds{15});
}

http_response orchestrator_fixture::call(boost::beast::http::verb method, const std::string& target,
                                         std::string body, const std::string& key,
                                         header_list headers) const {
  if (!key.empty()) headers.emplace_back("X-API-Key", key);
  return client()->request(method, target, std::move(body), headers);
}

std::string example(const std::string& name) {
  std::ifstream in{std::string{ORCH_EXAMPLES_DIR} + "/" + name};
  if (!in) throw std::runtime_error("missing example " + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace orch::testing
