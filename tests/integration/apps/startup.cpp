#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::verb;

namespace {

// Runs the orchestrator with `args` and `env` until it exits; returns the status and output.
std::pair<int, std::string> run(std::vector<std::string> args,
                                std::map<std::string, std::string> env,
                                const std::string& cwd = {}) {
  args.insert(args.begin(), ORCH_ORCHESTRATOR_BIN);
  static int n = 0;
  child_process p{args, env, "startup-" + std::to_string(++n) + ".log", cwd};
  auto rc = p.wait(std::chrono::seconds{60});
  if (rc < 0) rc = p.stop(SIGKILL);
  return {rc, p.log()};
}

} // namespace

BOOST_AUTO_TEST_SUITE(startup)

BOOST_AUTO_TEST_CASE(a_missing_setting_stops_the_start_with_one_line_naming_it) {
  auto env = base_env();
  auto [rc, out] = run({"serve"}, env);
  BOOST_TEST(rc == 2);
  BOOST_TEST(out.find("DATABASE_URL") != std::string::npos, out);
  BOOST_TEST(std::count(out.begin(), out.end(), '\n') == 1);
}

BOOST_AUTO_TEST_CASE(every_malformed_setting_is_named_and_no_secret_is_shown) {
  auto env = base_env();
  env["DATABASE_URL"] = "postgresql://u:db-pass-778899@127.0.0.1:1/x";
  env["API_PORT"] = "http";
  env["API_KEYS"] = "leaky-key-445566:admin";
  env["LOG_FORMAT"] = "xml";
  auto [rc, out] = run({"serve"}, env);
  BOOST_TEST(rc == 2);
  BOOST_TEST(out.find("API_PORT") != std::string::npos, out);
  BOOST_TEST(out.find("API_KEYS") != std::string::npos, out);
  BOOST_TEST(out.find("LOG_FORMAT") != std::string::npos, out);
  BOOST_TEST(out.find("leaky-key-445566") == std::string::npos, out);
  BOOST_TEST(out.find("db-pass-778899") == std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(unknown_commands_are_usage_errors) {
  BOOST_TEST(run({"frobnicate"}, {}).first == 2);
  BOOST_TEST(run({"help"}, {}).first == 0);
  auto [rc, out] = run({"version"}, {});
  BOOST_TEST(rc == 0);
  BOOST_TEST(out.rfind("orchestrator ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(migrate_applies_the_schema_once) {
  scratch_database db;
  auto env = base_env();
  env["DATABASE_URL"] = db.url();
  auto first = run({"migrate"}, env);
  BOOST_TEST(first.first == 0, first.second);
  auto applied = db.query_value("SELECT count(*) FROM schema_migrations");
  BOOST_TEST(applied != "0");
  auto second = run({"migrate"}, env);
  BOOST_TEST(second.first == 0, second.second);
  BOOST_TEST(db.query_value("SELECT count(*) FROM schema_migrations") == applied);
  BOOST_TEST(db.query_value("SELECT to_regclass('deployment_events') IS NOT NULL") == "t");
}

BOOST_AUTO_TEST_CASE(settings_are_read_from_dot_env_and_the_environment_wins) {
  scratch_database db;
  auto dir = std::filesystem::temp_directory_path() / ("orch-dotenv-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream out{dir / ".env"};
    out << "# written by the test\nDATABASE_URL=" << db.url()
        << "\nexport LOG_FORMAT=text\nAPI_KEYS=\"dotenv-key-1234:write\"\nSECRET_KEY='"
        << secret_key << "'\nAPI_HOST=127.0.0.1\n";
  }
  auto port = free_port();
  std::map<std::string, std::string> env{{"API_PORT", std::to_string(port)},
                                         {"LOG_FORMAT", "json"}};
  child_process p{{ORCH_ORCHESTRATOR_BIN, "serve"}, env, "startup-dotenv.log", dir.string()};
  BOOST_TEST_REQUIRE(p.wait_for_log("listening on", std::chrono::seconds{30}), p.log());
  http_client c{"127.0.0.1", port};
  BOOST_TEST(c.request(verb::get, "/templates", {}, {{"X-API-Key", "dotenv-key-1234"}}).result_int()
             == 200);
  // LOG_FORMAT from the environment beat the .env file: lines are JSON.
  BOOST_TEST(p.log().find("{\"time\":") != std::string::npos);
  BOOST_TEST(p.stop(SIGTERM) == 0);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(sigint_stops_the_server_cleanly) {
  orchestrator_fixture orch;
  BOOST_TEST(orch.call(verb::get, "/health", {}, "").result_int() == 200);
  BOOST_TEST(orch.process().stop(SIGINT) == 0);
  BOOST_TEST(orch.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
