// Prints one line per result: client throughput and CPU per call against openstack-sim, and
// status-poll calls per VM for 1,000 VMs booting over ~30 s, batched poller vs naive loop.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>
#include <rapidjson/document.h>

#include "orch/http/client_transport.hpp"
#include "orch/openstack/client.hpp"
#include "orch/openstack/status_poller.hpp"
#include "orch/openstack/url.hpp"
#include "orch/testing/child_process.hpp"
#include "orch/testing/http_client.hpp"

using namespace orch::openstack;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "openstack_bench: %s\n", why.c_str());
  std::exit(1);
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct sim {
  sim(const std::string& binary, std::vector<std::string> flags) {
    std::vector<std::string> argv{binary, "--port", "0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto log = "/tmp/orch-openstack-bench-" + std::to_string(::getpid()) + "-"
               + std::to_string(++counter) + ".log";
    proc = std::make_unique<orch::testing::child_process>(
      argv, std::map<std::string, std::string>{}, log);
    if (!proc->wait_for_log("http://127.0.0.1:", 20s)) die("openstack-sim did not start");
    auto text = proc->log();
    auto start = text.find("http://127.0.0.1:");
    base = text.substr(start, text.find_first_of("\r\n", start) - start);
    port = parse_url(base)->port;
  }

  int64_t calls(const std::string& method, const std::string& route) {
    orch::testing::http_client http{"127.0.0.1", port, 10s};
    auto res = http.get("/_sim/calls");
    rapidjson::Document doc;
    doc.Parse(res.body().c_str());
    int64_t n = 0;
    for (auto& c : doc["calls"].GetArray())
      if (c["method"].GetString() == method && c["route"].GetString() == route)
        n += c["count"].GetInt64();
    return n;
  }

  static inline int counter = 0;
  std::unique_ptr<orch::testing::child_process> proc;
  std::string base;
  uint16_t port = 0;
};

struct env {
  env(const sim& s, std::size_t in_flight) {
    client_config cfg;
    cfg.credentials.auth_url = s.base + "/identity/v3";
    cfg.credentials.username = "admin";
    cfg.credentials.password = "secret";
    cfg.credentials.project_name = "admin";
    cfg.credentials.user_domain_name = "Default";
    cfg.credentials.project_domain_name = "Default";
    cfg.max_in_flight = in_flight;
    orch::http::client_transport_config tcfg;
    tcfg.max_connections_per_endpoint = in_flight;
    auto made = orch::http::client_transport::make(ioc.get_executor(), tcfg);
    if (!made) die("transport");
    transport = std::move(*made);
    os.emplace(cfg, *transport, *transport, *transport, [] { return 0.5; });
  }

  void run_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    auto deadline = steady::now() + limit;
    while (!done()) {
      if (steady::now() > deadline) die("timed out");
      if (ioc.stopped()) ioc.restart();
      ioc.run_one_for(50ms);
    }
  }

  std::string image_id() {
    std::optional<result<image>> img;
    os->find_image("cirros", [&](result<image> r) { img.emplace(std::move(r)); });
    run_until([&] { return img.has_value(); }, 30s);
    if (!*img) die("find_image: " + to_string(img->error()));
    return (*img)->id;
  }

  /// Creates `count` servers; returns their ids.
  std::vector<std::string> create(int count, const std::string& prefix) {
    auto img = image_id();
    std::vector<std::string> ids;
    int failed = 0;
    for (int i = 0; i < count; ++i) {
      server_spec spec;
      spec.name = prefix + std::to_string(i);
      spec.flavor_ref = "1";
      spec.image_ref = img;
      os->create_server(spec, [&](result<created_server> r) {
        if (r)
          ids.push_back(r->id);
        else
          ++failed;
      });
    }
    run_until([&] { return static_cast<int>(ids.size()) + failed == count; }, 300s);
    if (failed > 0) die(std::to_string(failed) + " creates failed");
    return ids;
  }

  boost::asio::io_context ioc;
  std::unique_ptr<orch::http::client_transport> transport;
  std::optional<client> os;
};

std::vector<std::string> quota_flags() {
  return {"--quota-instances", "100000", "--quota-cores", "1000000", "--quota-ram", "1000000000"};
}

void bench_calls(const std::string& binary) {
  sim s{binary, quota_flags()};
  env e{s, 8};
  auto ids = e.create(1, "bench-");
  constexpr int calls = 20'000;
  int started = 0;
  int finished = 0;
  int failed = 0;
  std::function<void()> next = [&] {
    if (started == calls) return;
    ++started;
    e.os->get_server(ids[0], [&](result<server> r) {
      ++finished;
      failed += r ? 0 : 1;
      next();
    });
  };
  auto cpu0 = cpu_seconds();
  auto t0 = steady::now();
  for (int i = 0; i < 8; ++i) next();
  e.run_until([&] { return finished == calls; }, 600s);
  auto wall = std::chrono::duration<double>(steady::now() - t0).count();
  auto cpu = cpu_seconds() - cpu0;
  std::printf("openstack.client get_server calls=%d in_flight=8 calls_per_s=%.0f "
              "cpu_us_per_call=%.1f failed=%d connections=%zu\n",
              calls, calls / wall, cpu / calls * 1e6, failed, e.transport->connections_opened());
}

void bench_polling(const std::string& binary, int vms) {
  auto flags = quota_flags();
  flags.insert(flags.end(), {"--boot-time", "uniform:1s..30s"});
  double batched_per_vm = 0;
  double naive_per_vm = 0;
  double batched_wall = 0;
  double naive_wall = 0;
  {
    sim s{binary, flags};
    env e{s, 16};
    status_poller poller{*e.os, *e.transport, *e.transport};
    int reached = 0;
    int other = 0;
    auto t0 = steady::now();
    auto ids = e.create(vms, "batched-");
    for (auto& id : ids)
      poller.wait_for_server(id, e.transport->now() + 120s, [&](const wait_result& w) {
        ++(w.outcome == wait_outcome::reached ? reached : other);
      });
    e.run_until([&] { return reached + other == vms; }, 300s);
    batched_wall = std::chrono::duration<double>(steady::now() - t0).count();
    if (other > 0) die(std::to_string(other) + " batched waits did not reach ACTIVE");
    auto polls = s.calls("GET", "/compute/v2.1/servers/detail")
                 + s.calls("GET", "/compute/v2.1/servers/{id}");
    batched_per_vm = static_cast<double>(polls) / vms;
  }
  {
    sim s{binary, flags};
    env e{s, 16};
    int reached = 0;
    auto t0 = steady::now();
    auto ids = e.create(vms, "naive-");
    // The loop a vm actor would run alone: GET its server every 2 s until ACTIVE.
    std::function<void(std::string)> poll = [&](std::string id) {
      e.os->get_server(id, [&, id](result<server> r) {
        if (r && r->status == "ACTIVE") {
          ++reached;
          return;
        }
        e.transport->after(2s, [&, id] { poll(id); });
      });
    };
    for (auto& id : ids) poll(id);
    e.run_until([&] { return reached == vms; }, 300s);
    naive_wall = std::chrono::duration<double>(steady::now() - t0).count();
    naive_per_vm = static_cast<double>(s.calls("GET", "/compute/v2.1/servers/{id}")) / vms;
  }
  std::printf("openstack.status_polls vms=%d boot=uniform:1s..30s batched_polls_per_vm=%.3f "
              "batched_s=%.0f naive_interval_s=2 naive_polls_per_vm=%.2f naive_s=%.0f\n",
              vms, batched_per_vm, batched_wall, naive_per_vm, naive_wall);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: openstack_bench <openstack-sim binary> [vms]");
  std::string binary = argv[1];
  int vms = argc > 2 ? std::atoi(argv[2]) : 1000;
  bench_calls(binary);
  bench_polling(binary, vms);
  return 0;
}
