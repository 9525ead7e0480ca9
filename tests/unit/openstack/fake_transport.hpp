#pragma once

// Hand-written doubles for the OpenStack client's ports: a scripted transport that can fail
// the n-th call, a manual clock and a timer driven by that clock.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "orch/openstack/http_transport.hpp"
#include "orch/time.hpp"

namespace orch::openstack::testing {

/// Time that moves only when a test says so.
class fake_clock : public clock {
public:
  time_point now() const override { return now_; }

  timestamp utc_now() const override { return utc_; }

  void advance(std::chrono::milliseconds d) {
    now_ += d;
    utc_ += d;
  }

private:
  time_point now_ = time_point{} + std::chrono::hours{1000};
  timestamp utc_ = timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 15}};
};

/// Records every delay asked for; `fire_next` advances the clock to the earliest due
/// function and runs it.
class fake_timer : public timer {
public:
  explicit fake_timer(fake_clock& clk) : clk_(clk) {
    // nop
  }

  void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    requested.push_back(delay);
    pending_.push_back(entry{clk_.now() + delay, seq_++, std::move(fn)});
  }

  bool fire_next() {
    if (pending_.empty()) return false;
    auto i = std::min_element(pending_.begin(), pending_.end(), [](const auto& x, const auto& y) {
      return x.due < y.due || (x.due == y.due && x.seq < y.seq);
    });
    auto e = std::move(*i);
    pending_.erase(i);
    if (e.due > clk_.now())
      clk_.advance(std::chrono::duration_cast<std::chrono::milliseconds>(e.due - clk_.now()));
    e.fn();
    return true;
  }

  /// Fires until nothing is pending; returns how many fired.
  size_t run_all(size_t limit = 100'000) {
    size_t n = 0;
    while (n < limit && fire_next()) ++n;
    return n;
  }

  size_t pending() const { return pending_.size(); }

  std::vector<std::chrono::milliseconds> requested;

private:
  struct entry {
    clock::time_point due;
    size_t seq;
    std::function<void()> fn;
  };

  fake_clock& clk_;
  size_t seq_ = 0;
  std::vector<entry> pending_;
};

/// A scripted transport: replies come from `script` (in order) while it has entries, else
/// from `responder`. `fail_at = n` fails the n-th call (1-based) with `fail_with` instead.
/// With `hold`, replies wait in `held` until `release_all()`.
class fake_transport : public http_transport {
public:
  using responder_fn = std::function<transport_outcome(const http_call&)>;

  void send(http_call call, std::function<void(transport_outcome)> done) override {
    calls.push_back(call);
    transport_outcome out;
    if (fail_at != 0 && calls.size() == fail_at)
      out = transport_failure{fail_with, "injected failure"};
    else if (!script.empty()) {
      out = std::move(script.front());
      script.pop_front();
    } else if (responder) {
      out = responder(call);
    } else {
      out = transport_failure{transport_error::connect_failed, "no scripted reply"};
    }
    if (hold)
      held.emplace_back(std::move(out), std::move(done));
    else
      done(std::move(out));
  }

  /// Delivers held replies, including those of calls sent meanwhile; returns how many.
  size_t release_all() {
    size_t n = 0;
    while (!held.empty()) {
      auto [out, done] = std::move(held.front());
      held.pop_front();
      done(std::move(out));
      ++n;
    }
    return n;
  }

  /// Delivers the oldest held reply; `false` if none is held.
  bool release_one() {
    if (held.empty()) return false;
    auto [out, done] = std::move(held.front());
    held.pop_front();
    done(std::move(out));
    return true;
  }

  /// Calls whose method is `method` and whose URL contains `url_part`.
  size_t count(std::string_view method, std::string_view url_part) const {
    return static_cast<size_t>(std::count_if(calls.begin(), calls.end(), [&](const auto& c) {
      return c.method == method && c.url.find(url_part) != std::string::npos;
    }));
  }

  std::vector<http_call> calls;
  std::deque<transport_outcome> script;
  responder_fn responder;
  size_t fail_at = 0;
  transport_error fail_with = transport_error::connect_failed;
  bool hold = false;
  std::deque<std::pair<transport_outcome, std::function<void(transport_outcome)>>> held;
};

/// An HTTP answer.
inline transport_outcome reply(int status, std::string body = {}, http_headers headers = {}) {
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  return http_result{status, std::move(headers), std::move(body)};
}

/// The text of a file from the OpenStack fixture pack (tests/fixtures/openstack).
inline std::string read_sample(const std::string& relative) {
  std::ifstream in{std::string{ORCH_OPENSTACK_SAMPLES_DIR} + "/" + relative, std::ios::binary};
  if (!in) throw std::runtime_error("cannot read sample " + relative);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

/// A Keystone token body with the given lifetime, whose catalog puts every service of
/// RegionOne on `host` (and a decoy in RegionTwo).
inline std::string token_body(std::chrono::seconds lifetime,
                              const std::string& host = "http://cloud.test") {
  auto issued = timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 15}};
  auto endpoint = [&](const std::string& type, const std::string& url) {
    return R"({"type": ")" + type + R"(", "name": "x", "endpoints": [)"
           + R"({"interface": "public", "region_id": "RegionTwo", "url": "http://elsewhere.test/"},)"
           + R"({"interface": "public", "region_id": "RegionOne", "url": ")" + url + R"("}]})";
  };
  return R"({"token": {"issued_at": ")" + to_rfc3339(issued) + R"(", "expires_at": ")"
         + to_rfc3339(issued + lifetime) + R"(", "project": {"id": "p1"}, "catalog": [)"
         + endpoint("identity", host + ":5000/v3") + "," + endpoint("compute", host + ":8774/v2.1")
         + "," + endpoint("network", host + ":9696/") + ","
         + endpoint("volumev3", host + ":8776/v3/p1") + "," + endpoint("image", host + ":9292")
         + "]}}";
}

/// The 201 of `POST /v3/auth/tokens`.
inline transport_outcome token_reply(std::chrono::seconds lifetime = std::chrono::hours{1},
                                     const std::string& token = "tok-1",
                                     const std::string& host = "http://cloud.test") {
  return reply(201, token_body(lifetime, host), {{"X-Subject-Token", token}});
}

} // namespace orch::openstack::testing
