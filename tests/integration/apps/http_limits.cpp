#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "json.hpp"
#include "orchestrator_fixture.hpp"

using namespace orch::testing;
using namespace std::chrono_literals;
using boost::beast::http::field;
using boost::beast::http::verb;

namespace {

/// A bare loopback connection that sends nothing: what an idle, half-open or vanished client
/// looks like to the server. Plain POSIX, one descriptor each, so thousands are cheap.
class idle_connection {
public:
  explicit idle_connection(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect() failed");
    }
  }

  ~idle_connection() { ::close(fd_); }

  idle_connection(const idle_connection&) = delete;
  idle_connection& operator=(const idle_connection&) = delete;

  /// Everything the server sends until it closes, or until `timeout` passes.
  std::string read_until_close(std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string result;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      result.append(buf, static_cast<size_t>(n));
    }
    return result;
  }

private:
  int fd_;
};

/// Raises the soft limit on open files to the hard one (children inherit it) and returns it.
rlim_t raise_open_files_limit() {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  ::getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

/// Milliseconds a GET /health on `client` takes; the request must succeed.
long health_millis(http_client& client) {
  auto start = std::chrono::steady_clock::now();
  auto res = client.get("/health");
  BOOST_TEST_REQUIRE(res.result_int() == 200);
  return static_cast<long>(
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
      .count());
}

/// Checks the shape every problem the server produces has, and returns the parsed body.
rapidjson::Document problem_of(const http_response& res, int status) {
  BOOST_TEST(res.result_int() == status);
  BOOST_TEST(std::string{res[field::content_type]} == "application/problem+json");
  auto doc = parse_json(res.body());
  BOOST_TEST(doc["status"].GetInt() == status);
  BOOST_TEST_REQUIRE(doc.HasMember("request_id"));
  BOOST_TEST(doc["request_id"].GetString() == std::string{res["X-Request-ID"]});
  return doc;
}

std::string counter_value(const std::string& metrics, const std::string& name) {
  auto pos = metrics.find("\n" + name + " ");
  if (pos == std::string::npos) return "<missing>";
  auto start = pos + name.size() + 2;
  return metrics.substr(start, metrics.find('\n', start) - start);
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_limits)

BOOST_AUTO_TEST_CASE(a_body_over_max_body_bytes_is_413_with_the_request_id) {
  orchestrator_fixture orch{{{"MAX_BODY_BYTES", "4096"}}};
  std::string big = R"({"name":"big","description":")" + std::string(8000, 'x') + R"("})";
  auto res = orch.call(verb::post, "/templates", big, write_key, {{"X-Request-ID", "big-body-1"}});
  auto doc = problem_of(res, 413);
  BOOST_TEST(doc["request_id"].GetString() == std::string{"big-body-1"});
  BOOST_TEST(doc["instance"].GetString() == std::string{"/templates"});
  // The server is still fine afterwards.
  BOOST_TEST(orch.call(verb::get, "/health", {}, "").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(a_header_or_url_over_max_header_bytes_is_431) {
  orchestrator_fixture orch{{{"MAX_HEADER_BYTES", "2048"}}};
  auto big_header
    = orch.call(verb::get, "/templates", {}, read_key, {{"X-Padding", std::string(4000, 'p')}});
  auto doc = problem_of(big_header, 431);
  BOOST_TEST(doc["detail"].GetString() == std::string{"request header too large"});
  BOOST_TEST(std::string{big_header["X-Request-ID"]}.size() == 36u);
  BOOST_TEST(!big_header.keep_alive());
  auto long_url = orch.call(verb::get, "/templates/" + std::string(4000, 'u'), {}, read_key);
  problem_of(long_url, 431);
  // Just under the limit is served.
  auto fits
    = orch.call(verb::get, "/templates", {}, read_key, {{"X-Padding", std::string(1500, 'p')}});
  BOOST_TEST(fits.result_int() == 200);
}

BOOST_AUTO_TEST_CASE(bodies_nested_too_deep_or_with_overlong_strings_are_refused) {
  orchestrator_fixture orch;
  auto deep = orch.call(verb::post, "/templates",
                        R"({"name":"t","x":)" + std::string(33, '[') + std::string(33, ']') + "}");
  auto doc = problem_of(deep, 400);
  BOOST_TEST(std::string{doc["detail"].GetString()}.find("32 levels") != std::string::npos);
  auto body = example("web-app-stack.json");
  auto pos = body.find("3-tier web application");
  BOOST_TEST_REQUIRE(pos != std::string::npos);
  body.replace(pos, 22, std::string(1025, 'd'));
  auto long_text = orch.call(verb::post, "/templates", body);
  auto long_doc = problem_of(long_text, 422);
  BOOST_TEST_REQUIRE(long_doc["errors"].Size() == 1u);
  BOOST_TEST(long_doc["errors"][0]["field"].GetString() == std::string{"description"});
  auto deployment = orch.call(verb::post, "/deployments",
                              R"({"name":"a","template":"web-app-stack","cloud_region":")"
                                + std::string(300, 'r') + R"("})");
  auto dep_doc = problem_of(deployment, 422);
  BOOST_TEST(dep_doc["errors"][0]["field"].GetString() == std::string{"cloud_region"});
}

BOOST_AUTO_TEST_CASE(templates_and_deployments_over_the_size_limits_are_422) {
  orchestrator_fixture orch{
    {{"MAX_VM_GROUPS_PER_DEPLOYMENT", "3"}, {"MAX_VMS_PER_DEPLOYMENT", "10"}}};
  // 3 groups and 6 VMs: fits.
  BOOST_TEST_REQUIRE(orch.call(verb::post, "/templates", example("web-app-stack.json")).result_int()
                     == 201);
  auto body = example("web-app-stack.json");
  auto pos = body.find(R"("db": {)");
  BOOST_TEST_REQUIRE(pos != std::string::npos);
  body.insert(pos, R"("cache": {"flavor": "m1.small", "image": "img", "count": 1}, )");
  auto too_many_groups = orch.call(verb::put, "/templates/web-app-stack", body);
  auto doc = problem_of(too_many_groups, 422);
  BOOST_TEST(doc["errors"][0]["field"].GetString() == std::string{"vm_config"});
  BOOST_TEST(doc["errors"][0]["message"].GetString()
             == std::string{"has 4 VM groups; at most 3 are allowed"});
  // Parameters can grow a template that fit: the resolved one is checked.
  auto grown = orch.call(verb::post, "/deployments",
                         R"({"name":"grown","template":"web-app-stack","cloud_region":"RegionOne",)"
                         R"("parameters":{"web_count":8}})");
  auto grown_doc = problem_of(grown, 422);
  BOOST_TEST(grown_doc["errors"][0]["field"].GetString() == std::string{"template.vm_config"});
  BOOST_TEST(grown_doc["errors"][0]["message"].GetString()
             == std::string{"asks for 12 VMs in total; at most 10 are allowed"});
}

BOOST_AUTO_TEST_CASE(an_address_that_keeps_failing_authentication_gets_429_even_with_a_key) {
  orchestrator_fixture orch{{{"AUTH_FAILURES_PER_MINUTE", "3"}}};
  auto client = orch.client();
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(
      client->request(verb::get, "/templates", {}, {{"X-API-Key", "guess-" + std::to_string(i)}})
        .result_int()
      == 401);
  auto blocked = client->request(verb::get, "/templates", {}, {{"X-API-Key", read_key}});
  problem_of(blocked, 429);
  auto wait = std::stoi(std::string{blocked[field::retry_after]});
  BOOST_TEST(wait >= 1);
  BOOST_TEST(wait <= 60);
  // Open routes stay open.
  BOOST_TEST(client->get("/health").result_int() == 200);
  auto metrics = client->get("/metrics").body();
  BOOST_TEST(counter_value(metrics, "api_auth_failures_total") == "3");
  BOOST_TEST(counter_value(metrics, "api_auth_blocked_total") == "1");
}

BOOST_AUTO_TEST_CASE(thousands_of_idle_connections_leave_others_served_and_the_cap_refuses_more) {
  auto limit = raise_open_files_limit();
  // Both ends of every connection live on this machine: this process and the orchestrator
  // each hold one descriptor per connection, plus some headroom.
  auto idle_count = static_cast<int>(std::min<rlim_t>(2000, limit > 300 ? limit - 200 : 100));
  BOOST_TEST_MESSAGE("open files limit " << limit << ", opening " << idle_count
                                         << " idle connections");
  constexpr int over_cap = 20;
  orchestrator_fixture orch{
    {{"API_MAX_CONNECTIONS", std::to_string(idle_count + 1)}, {"LOG_LEVEL", "info"}}};
  auto client = orch.client(); // connection 1 of the cap, kept alive throughout
  BOOST_TEST(health_millis(*client) < 1000);
  std::vector<std::unique_ptr<idle_connection>> idle;
  idle.reserve(static_cast<size_t>(idle_count));
  long worst = 0;
  for (int i = 0; i < idle_count; ++i) {
    idle.push_back(std::make_unique<idle_connection>(orch.port()));
    if (i % 250 == 0) worst = std::max(worst, health_millis(*client));
  }
  worst = std::max(worst, health_millis(*client));
  BOOST_TEST(worst < 1000, "slowest answer while connections piled up: " << worst << " ms");
  // Every slot is taken now: more connections are answered 503 and closed at once.
  int refused = 0;
  for (int i = 0; i < over_cap; ++i) {
    idle_connection extra{orch.port()};
    auto got = extra.read_until_close(5s);
    if (got.starts_with("HTTP/1.1 503") && got.find("Retry-After:") != std::string::npos
        && got.find("application/problem+json") != std::string::npos)
      ++refused;
    else
      BOOST_TEST_MESSAGE("extra connection " << i << " got: " << got.substr(0, 80));
  }
  BOOST_TEST(refused == over_cap);
  // The kept-alive client is still served, quickly.
  BOOST_TEST(health_millis(*client) < 1000);
  auto metrics = client->get("/metrics").body();
  BOOST_TEST(counter_value(metrics, "api_connections_refused_total") == std::to_string(over_cap));
  // Closing idle connections frees their slots.
  idle.resize(idle.size() / 2);
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    try {
      served = orch.call(verb::get, "/health", {}, "").result_int() == 200;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(100ms);
    }
  }
  BOOST_TEST(served);
}

BOOST_AUTO_TEST_CASE(a_client_that_trickles_its_header_is_dropped_while_others_are_served) {
  orchestrator_fixture orch{{{"API_HEADER_TIMEOUT_MS", "1500"}}};
  auto client = orch.client();
  raw_socket slow{"127.0.0.1", orch.port()};
  slow.send("GET /health HTTP/1.1\r\n");
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  long worst = 0;
  // One byte every 300 ms: never a complete header.
  for (int i = 0; i < 40 && !closed; ++i) {
    try {
      slow.send("X");
    } catch (const std::exception&) {
      closed = true;
      break;
    }
    worst = std::max(worst, health_millis(*client));
    closed = slow.wait_closed(300ms);
  }
  auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST(closed);
  BOOST_TEST(waited < 10s);
  BOOST_TEST(worst < 1000);
  BOOST_TEST(orch.call(verb::get, "/health", {}, "").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(half_open_clients_are_cleaned_up_at_the_timeouts_while_others_are_served) {
  orchestrator_fixture orch{{{"API_HEADER_TIMEOUT_MS", "1000"},
                             {"API_BODY_TIMEOUT_MS", "1000"},
                             {"API_IDLE_TIMEOUT_MS", "1500"}}};
  auto client = orch.client();
  // Connects and never sends a byte, or vanished without a FIN: the idle timeout.
  raw_socket silent{"127.0.0.1", orch.port()};
  // Half a request header, then nothing: the header timeout.
  raw_socket half_header{"127.0.0.1", orch.port()};
  half_header.send("GET /templates HTTP/1.1\r\nHost: x\r\n");
  // A whole header announcing a body that never comes: the body timeout.
  raw_socket half_body{"127.0.0.1", orch.port()};
  half_body.send(std::string{"POST /templates HTTP/1.1\r\nHost: x\r\nX-API-Key: "} + write_key
                 + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na");
  // A kept-alive client that got its answer, then went silent: the idle timeout again.
  raw_socket went_quiet{"127.0.0.1", orch.port()};
  went_quiet.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  went_quiet.read_until("\"ok\"");
  auto start = std::chrono::steady_clock::now();
  long worst = 0;
  for (int i = 0; i < 5; ++i) worst = std::max(worst, health_millis(*client));
  BOOST_TEST(half_header.wait_closed(5s));
  BOOST_TEST(half_body.wait_closed(5s));
  BOOST_TEST(silent.wait_closed(5s));
  BOOST_TEST(went_quiet.wait_closed(5s));
  auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST(waited < 6s);
  // `client` itself may have idled out meanwhile; a new one is served as quickly.
  auto fresh = orch.client();
  for (int i = 0; i < 5; ++i) worst = std::max(worst, health_millis(*fresh));
  BOOST_TEST(worst < 1000);
}

BOOST_AUTO_TEST_SUITE_END()
