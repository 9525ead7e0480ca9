#include <csignal>
#include <sstream>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using boost::beast::http::verb;
using namespace std::chrono_literals;

namespace {

struct keys_run {
  int status = -1;
  std::string output;
};

// Runs `orchestrator keys <args>` on the database at `url`.
keys_run keys(const std::string& url, std::vector<std::string> args) {
  args.insert(args.begin(), {ORCH_ORCHESTRATOR_BIN, "keys"});
  auto env = base_env();
  env["DATABASE_URL"] = url;
  static int n = 0;
  child_process p{args, env, "stored-keys-" + std::to_string(++n) + ".log"};
  auto rc = p.wait(60s);
  if (rc < 0) rc = p.stop(SIGKILL);
  return {rc, p.log()};
}

// The key `keys add` printed: the line that starts with `orch_` (logs go to the same file).
std::string printed_key(const std::string& output) {
  std::istringstream in{output};
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("orch_")) return line;
  return {};
}

// Waits until a request with `key` gets `wanted`; running servers reload keys every 5 s.
bool answers(const orchestrator_fixture& f, verb method, const std::string& target,
             const std::string& key, unsigned wanted) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f.call(method, target, {}, key).result_int() == wanted) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(stored_keys)

BOOST_AUTO_TEST_CASE(a_stored_key_works_without_restart_until_it_is_revoked) {
  // Polling with a key the server has not loaded yet fails authentication every 200 ms; the
  // per-address limit on failures would stop the polling before the reload comes.
  orchestrator_fixture f{{{"AUTH_FAILURES_PER_MINUTE", "1000"}}};
  auto writer = keys(f.db().url(), {"add", "ci-writer", "write"});
  BOOST_REQUIRE_MESSAGE(writer.status == 0, writer.output);
  auto key = printed_key(writer.output);
  BOOST_REQUIRE_MESSAGE(key.size() == 5 + 44, writer.output);
  auto reader = keys(f.db().url(), {"add", "ci-reader", "read"});
  BOOST_REQUIRE_MESSAGE(reader.status == 0, reader.output);
  auto read_only = printed_key(reader.output);

  BOOST_TEST(answers(f, verb::get, "/templates", key, 200));
  // A write key may delete (the template is unknown: 404, not 401 or 403).
  BOOST_TEST(answers(f, verb::delete_, "/templates/nothing-here", key, 404));
  BOOST_TEST(answers(f, verb::get, "/templates", read_only, 200));
  BOOST_TEST(f.call(verb::delete_, "/templates/nothing-here", {}, read_only).result_int() == 403);
  // API_KEYS keep working next to the stored keys.
  BOOST_TEST(f.call(verb::get, "/templates", {}, write_key).result_int() == 200);

  // Only a digest is stored, and listing never shows a key.
  BOOST_TEST(f.db().query_value("SELECT count(*) FROM api_keys WHERE key_hash = '" + key
                                + "' OR name = '" + key + "'")
             == "0");
  BOOST_TEST(f.db().query_value("SELECT min(length(key_hash)) FROM api_keys") == "64");
  auto listed = keys(f.db().url(), {"list"});
  BOOST_TEST(listed.status == 0);
  BOOST_TEST(listed.output.find("ci-writer") != std::string::npos, listed.output);
  BOOST_TEST(listed.output.find(key) == std::string::npos);

  auto revoked = keys(f.db().url(), {"revoke", "ci-writer"});
  BOOST_TEST(revoked.status == 0, revoked.output);
  BOOST_TEST(answers(f, verb::get, "/templates", key, 401));
  BOOST_TEST(f.call(verb::get, "/templates", {}, read_only).result_int() == 200);
}

BOOST_AUTO_TEST_CASE(the_keys_command_explains_mistakes) {
  scratch_database db;
  auto usage = keys(db.url(), {"add", "no-scope"});
  BOOST_TEST(usage.status == 2);
  BOOST_TEST(usage.output.find("usage: orchestrator keys") != std::string::npos, usage.output);
  auto bad_scope = keys(db.url(), {"add", "x", "admin"});
  BOOST_TEST(bad_scope.status == 2);
  BOOST_REQUIRE(keys(db.url(), {"add", "twice", "read"}).status == 0);
  auto taken = keys(db.url(), {"add", "twice", "write"});
  BOOST_TEST(taken.status == 1);
  BOOST_TEST(taken.output.find("already named 'twice'") != std::string::npos, taken.output);
  auto unknown = keys(db.url(), {"revoke", "nobody"});
  BOOST_TEST(unknown.status == 1);
  BOOST_TEST(unknown.output.find("no active key") != std::string::npos, unknown.output);
  BOOST_TEST(keys(db.url(), {"help"}).status == 0);
}

BOOST_AUTO_TEST_SUITE_END()
