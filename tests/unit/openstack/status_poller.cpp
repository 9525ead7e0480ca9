#include "orch/openstack/status_poller.hpp"

#include <map>
#include <optional>
#include <set>

#include <boost/test/unit_test.hpp>

#include "fake_transport.hpp"
#include "orch/openstack/url.hpp"

using namespace orch::openstack;
using namespace orch::openstack::testing;
using namespace std::chrono_literals;

namespace {

/// A few servers and volumes whose states the test changes; answers like Nova and Cinder,
/// including `changes-since` (updated >= since, deleted servers as DELETED).
struct fake_cloud {
  struct vm {
    std::string status = "BUILD";
    orch::timestamp updated;
    std::string fault;
    bool deleted = false;
  };

  explicit fake_cloud(fake_clock& clk) : clk_(clk) {
    // nop
  }

  void set_server(const std::string& id, std::string status, std::string fault = {}) {
    auto& s = servers[id];
    s.status = std::move(status);
    s.fault = std::move(fault);
    s.updated = clk_.utc_now();
  }

  void delete_server(const std::string& id) {
    auto& s = servers[id];
    s.deleted = true;
    s.updated = clk_.utc_now();
  }

  transport_outcome answer(const http_call& c) {
    if (c.url.find("/auth/tokens") != std::string::npos) return token_reply(24h);
    auto url = parse_url(c.url);
    BOOST_REQUIRE(url.has_value());
    if (url->path == "/v2.1/servers/detail") return list_servers(url->query);
    if (url->path.starts_with("/v2.1/servers/")) return show_server(url->path.substr(14));
    if (url->path == "/v3/p1/volumes/detail") return list_volumes();
    return reply(404, R"({"itemNotFound": {"code": 404, "message": "no route"}})");
  }

  std::string server_json(const std::string& id, const vm& s) const {
    auto text = R"({"id": ")" + id + R"(", "name": "vm", "status": ")"
                + (s.deleted ? std::string{"DELETED"} : s.status) + R"(", "updated": ")"
                + orch::to_rfc3339(std::chrono::floor<std::chrono::seconds>(s.updated)) + "\"";
    if (!s.fault.empty()) text += R"(, "fault": {"code": 500, "message": ")" + s.fault + "\"}";
    return text + "}";
  }

  transport_outcome list_servers(const std::string& query) {
    std::optional<orch::timestamp> since;
    if (auto pos = query.find("changes-since="); pos != std::string::npos) {
      auto value = query.substr(pos + 14, query.find('&', pos) - pos - 14);
      std::string decoded;
      for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '%' && i + 2 < value.size()) {
          decoded += static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          decoded += value[i];
        }
      }
      since = orch::parse_rfc3339(decoded);
      BOOST_REQUIRE_MESSAGE(since.has_value(), "bad changes-since " << decoded);
      sent_since.push_back(*since);
    } else {
      unfiltered_lists++;
    }
    std::string body = R"({"servers": [)";
    bool first = true;
    for (auto& [id, s] : servers) {
      // Nova's updated_at has whole seconds, as the answer shows.
      if (since && std::chrono::floor<std::chrono::seconds>(s.updated) < *since) continue;
      if (s.deleted && !since) continue;
      if (!first) body += ",";
      first = false;
      body += server_json(id, s);
    }
    return reply(200, body + "]}");
  }

  transport_outcome show_server(const std::string& id) {
    auto i = servers.find(id);
    if (i == servers.end() || i->second.deleted)
      return reply(404,
                   R"({"itemNotFound": {"code": 404, "message": "Instance could not be found."}})");
    return reply(200, R"({"server": )" + server_json(id, i->second) + "}");
  }

  transport_outcome list_volumes() {
    std::string body = R"({"volumes": [)";
    bool first = true;
    for (auto& [id, status] : volumes) {
      if (!first) body += ",";
      first = false;
      body += R"({"id": ")" + id + R"(", "status": ")" + status + R"(", "size": 1})";
    }
    return reply(200, body + "]}");
  }

  std::map<std::string, vm> servers;
  std::map<std::string, std::string> volumes;
  std::vector<orch::timestamp> sent_since;
  size_t unfiltered_lists = 0;

private:
  fake_clock& clk_;
};

struct fixture {
  fixture() {
    cfg.credentials.auth_url = "http://cloud.test:5000/v3";
    cfg.credentials.username = "orch";
    cfg.credentials.password = "pw";
    cfg.credentials.project_name = "demo";
    cfg.credentials.user_domain_name = "Default";
    cfg.credentials.project_domain_name = "Default";
    transport.responder = [this](const http_call& c) { return cloud.answer(c); };
    os.emplace(cfg, transport, tmr, clk, [] { return 0.5; });
    uut.emplace(*os, tmr, clk);
  }

  /// Registers a waiter whose result lands in `results[id]`.
  waiter_id wait_server(const std::string& id, std::chrono::milliseconds timeout = 10min) {
    return uut->wait_for_server(id, clk.now() + timeout,
                                [this](const wait_result& r) { results.emplace(r.id, r); });
  }

  /// Fires timers until `done()` or `limit` timers fired.
  template <class Pred>
  void run_until(Pred done, size_t limit = 10'000) {
    for (size_t n = 0; n < limit && !done(); ++n)
      if (!tmr.fire_next()) break;
  }

  size_t server_lists() const { return transport.count("GET", "/servers/detail"); }

  client_config cfg;
  fake_clock clk;
  fake_timer tmr{clk};
  fake_transport transport;
  fake_cloud cloud{clk};
  std::optional<orch::openstack::client> os;
  std::optional<status_poller> uut;
  std::map<std::string, wait_result> results;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(status_poller, fixture)

BOOST_AUTO_TEST_CASE(many_waiters_share_one_listing_per_tick) {
  constexpr int count = 100;
  for (int i = 0; i < count; ++i) cloud.set_server("s" + std::to_string(i), "BUILD");
  for (int i = 0; i < count; ++i) wait_server("s" + std::to_string(i));
  // Servers become ACTIVE one after another over 20 s.
  int next = 0;
  auto start = clk.now();
  run_until([&] {
    while (next < count && clk.now() - start >= next * 200ms)
      cloud.set_server("s" + std::to_string(next++), "ACTIVE");
    return results.size() == count;
  });
  BOOST_REQUIRE(results.size() == size_t{count});
  for (auto& [id, r] : results) {
    BOOST_TEST(to_string(r.outcome) == "reached", id);
    BOOST_TEST(r.status == "ACTIVE");
  }
  BOOST_TEST(server_lists() <= 50u, "list calls: " << server_lists());
  BOOST_TEST(uut->stats().lookups == 0u);
  BOOST_TEST(cloud.unfiltered_lists == 0u);
  BOOST_TEST(uut->waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(error_server_fails_with_its_fault) {
  cloud.set_server("bad", "BUILD");
  wait_server("bad");
  tmr.fire_next();
  BOOST_TEST(results.empty());
  clk.advance(1s);
  cloud.set_server("bad", "ERROR", "No valid host was found.");
  run_until([&] { return !results.empty(); });
  BOOST_REQUIRE(results.count("bad") == 1u);
  BOOST_TEST(to_string(results["bad"].outcome) == "failed");
  BOOST_TEST(results["bad"].status == "ERROR");
  BOOST_TEST(results["bad"].fault_code.value_or(0) == 500);
  BOOST_TEST(results["bad"].fault_message == "No valid host was found.");
}

BOOST_AUTO_TEST_CASE(server_deleted_while_waited_for_is_gone) {
  cloud.set_server("s", "BUILD");
  wait_server("s");
  tmr.fire_next();
  clk.advance(1s);
  cloud.delete_server("s");
  run_until([&] { return !results.empty(); });
  BOOST_REQUIRE(results.count("s") == 1u);
  BOOST_TEST(to_string(results["s"].outcome) == "gone");
  BOOST_TEST(uut->stats().lookups == 0u);
}

BOOST_AUTO_TEST_CASE(server_unchanged_since_long_ago_is_looked_up_once) {
  cloud.set_server("old-active", "ACTIVE");
  cloud.set_server("old-build", "BUILD");
  clk.advance(1h);
  wait_server("old-active");
  wait_server("missing");
  wait_server("old-build");
  run_until([&] { return results.size() == 2u; });
  BOOST_TEST(to_string(results["old-active"].outcome) == "reached");
  BOOST_TEST(to_string(results["missing"].outcome) == "gone");
  BOOST_TEST(transport.count("GET", "/servers/old-active") == 1u);
  BOOST_TEST(transport.count("GET", "/servers/missing") == 1u);
  BOOST_TEST(transport.count("GET", "/servers/old-build") == 1u);
  // Once seen, later changes come through the listing, not through lookups.
  for (int i = 0; i < 3; ++i) tmr.fire_next();
  cloud.set_server("old-build", "ACTIVE");
  run_until([&] { return results.size() == 3u; });
  BOOST_TEST(to_string(results["old-build"].outcome) == "reached");
  BOOST_TEST(uut->stats().lookups == 3u);
}

BOOST_AUTO_TEST_CASE(deadline_passes_as_timed_out_even_while_idle) {
  cloud.set_server("slow", "BUILD");
  auto start = clk.now();
  wait_server("slow", 7s);
  run_until([&] { return !results.empty(); });
  BOOST_REQUIRE(results.count("slow") == 1u);
  BOOST_TEST(to_string(results["slow"].outcome) == "timed_out");
  BOOST_TEST(results["slow"].status == "BUILD");
  BOOST_TEST((clk.now() - start == 7s));
  BOOST_TEST(tmr.pending() == 0u, "nothing left to poll for");
}

BOOST_AUTO_TEST_CASE(interval_backs_off_when_idle_and_resets_for_a_new_waiter) {
  cloud.set_server("a", "BUILD");
  wait_server("a");
  std::vector<std::chrono::milliseconds> intervals;
  for (int i = 0; i < 7; ++i) {
    tmr.fire_next();
    intervals.push_back(uut->interval());
  }
  // The first tick sees "a" for the first time (a change), then nothing changes.
  BOOST_TEST((intervals
              == std::vector<std::chrono::milliseconds>{500ms, 1000ms, 2000ms, 4000ms, 5000ms,
                                                        5000ms, 5000ms}));
  auto lists = server_lists();
  cloud.set_server("b", "BUILD");
  wait_server("b");
  BOOST_TEST(uut->interval() == 500ms);
  auto before = clk.now();
  tmr.fire_next();
  BOOST_TEST(server_lists() == lists + 1);
  BOOST_TEST((clk.now() - before <= 500ms));
}

BOOST_AUTO_TEST_CASE(max_lag_fraction_keeps_the_interval_within_a_fraction_of_the_wait) {
  status_poller_config config;
  config.fast_interval = 100ms;
  config.max_lag_fraction = 0.1;
  uut.emplace(*os, tmr, clk, config);
  cloud.set_server("a", "BUILD");
  auto registered = clk.now();
  wait_server("a");
  while (clk.now() - registered < 2s) {
    BOOST_REQUIRE(tmr.fire_next());
    auto bound = std::max<std::chrono::milliseconds>(
      100ms, std::chrono::duration_cast<std::chrono::milliseconds>((clk.now() - registered) / 10));
    BOOST_TEST((uut->interval() <= bound));
  }
  // Doubling alone would next look at 3.2 s, over a second after the boot ended.
  cloud.set_server("a", "ACTIVE");
  auto active_at = clk.now();
  run_until([&] { return !results.empty(); });
  BOOST_REQUIRE(results.count("a") == 1u);
  BOOST_TEST(to_string(results["a"].outcome) == "reached");
  BOOST_TEST((clk.now() - active_at <= 250ms));
}

BOOST_AUTO_TEST_CASE(changes_since_follows_the_newest_update_minus_skew) {
  auto registered = clk.utc_now();
  cloud.set_server("a", "BUILD");
  wait_server("a");
  tmr.fire_next();
  BOOST_REQUIRE(cloud.sent_since.size() == 1u);
  BOOST_TEST((cloud.sent_since[0] == registered - 2s));
  clk.advance(30s);
  cloud.set_server("a", "BUILD"); // touched, e.g. task_state changed
  auto touched = std::chrono::floor<std::chrono::seconds>(clk.utc_now());
  run_until([&] { return cloud.sent_since.size() == 3u; });
  BOOST_TEST((cloud.sent_since[2] == touched - 2s));
}

BOOST_AUTO_TEST_CASE(window_restarts_for_a_waiter_after_a_quiet_hour) {
  cloud.set_server("a", "ACTIVE");
  wait_server("a");
  run_until([&] { return !results.empty(); });
  clk.advance(1h);
  auto registered = clk.utc_now();
  cloud.set_server("b", "BUILD");
  wait_server("b");
  auto sent = cloud.sent_since.size();
  tmr.fire_next();
  BOOST_REQUIRE(cloud.sent_since.size() == sent + 1);
  BOOST_TEST((cloud.sent_since.back() == registered - 2s));
}

BOOST_AUTO_TEST_CASE(volumes_reach_fail_or_vanish_from_one_listing_per_tick) {
  cloud.volumes = {{"v-ok", "creating"}, {"v-bad", "creating"}, {"v-gone", "deleting"}};
  auto add = [&](const std::string& id) {
    uut->wait_for_volume(id, clk.now() + 10min,
                         [this](const wait_result& r) { results.emplace(r.id, r); });
  };
  add("v-ok");
  add("v-bad");
  add("v-gone");
  tmr.fire_next();
  BOOST_TEST(results.empty());
  cloud.volumes = {{"v-ok", "available"}, {"v-bad", "error"}};
  run_until([&] { return results.size() == 3u; });
  BOOST_TEST(to_string(results["v-ok"].outcome) == "reached");
  BOOST_TEST(to_string(results["v-bad"].outcome) == "failed");
  BOOST_TEST(to_string(results["v-gone"].outcome) == "gone");
  BOOST_TEST(transport.count("GET", "/volumes/detail") == 2u);
  BOOST_TEST(server_lists() == 0u);
}

BOOST_AUTO_TEST_CASE(failed_listing_keeps_waiters_and_slows_down) {
  cloud.set_server("a", "BUILD");
  wait_server("a");
  auto normal = transport.responder;
  transport.responder = [&](const http_call& c) {
    if (c.url.find("/servers/detail") != std::string::npos)
      return reply(400, R"({"badRequest": {"code": 400, "message": "nope"}})");
    return normal(c);
  };
  tmr.fire_next();
  tmr.fire_next();
  BOOST_TEST(uut->stats().failures == 2u);
  BOOST_REQUIRE(uut->last_error().has_value());
  BOOST_TEST(to_string(uut->last_error()->kind) == "bad_request");
  BOOST_TEST(uut->interval() == 2000ms);
  BOOST_TEST(uut->waiting() == 1u);
  transport.responder = normal;
  cloud.set_server("a", "ACTIVE");
  run_until([&] { return !results.empty(); });
  BOOST_TEST(to_string(results["a"].outcome) == "reached");
  BOOST_TEST(!uut->last_error().has_value());
}

BOOST_AUTO_TEST_CASE(cancelled_waiter_is_never_called) {
  cloud.set_server("a", "BUILD");
  auto id = wait_server("a");
  BOOST_TEST(uut->cancel(id));
  BOOST_TEST(!uut->cancel(id));
  cloud.set_server("a", "ACTIVE");
  tmr.run_all();
  BOOST_TEST(results.empty());
  BOOST_TEST(server_lists() == 0u);
}

BOOST_AUTO_TEST_CASE(callback_may_destroy_the_poller) {
  cloud.set_server("a", "ACTIVE");
  cloud.set_server("b", "ACTIVE");
  int calls = 0;
  for (auto id : {"a", "b"})
    uut->wait_for_server(id, clk.now() + 1min, [&](const wait_result&) {
      ++calls;
      uut.reset();
    });
  tmr.run_all();
  BOOST_TEST(calls == 1);
  BOOST_TEST(!uut.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
