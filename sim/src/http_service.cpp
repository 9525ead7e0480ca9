#include "orch/sim/http_service.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <queue>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace orch::sim {

request from_beast(const http::request& req) {
  request result;
  result.method = std::string{req.method_string()};
  auto target = std::string_view{req.target().data(), req.target().size()};
  auto q = target.find('?');
  result.path = std::string{target.substr(0, q)};
  if (q != std::string_view::npos) result.query = std::string{target.substr(q + 1)};
  result.headers.reserve(8);
  for (auto& field : req)
    result.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
  result.body = req.body();
  return result;
}

http::response to_beast(response&& res, unsigned version, bool keep_alive, bool head) {
  http::response out{static_cast<http::beast_http::status>(res.status), version};
  for (auto& [name, value] : res.headers) out.insert(name, value);
  out.keep_alive(keep_alive);
  auto length = res.body.size();
  if (!head) out.body() = std::move(res.body);
  out.prepare_payload();
  if (head && length > 0) out.content_length(length);
  return out;
}

struct http_service::impl {
  std::mutex mtx;
  cloud engine;
  std::unique_ptr<http::server> server;
  // Guarded by mtx, like the engine whose servers it follows.
  std::unique_ptr<ssh_backing> ssh;
  http::server_config server_cfg;
  service_options opts;
  std::atomic<bool> dirty{false};
  bool stopped = false;

  // Delayed answers: a single timer thread releases them in due order.
  struct pending {
    std::chrono::steady_clock::time_point due;
    uint64_t seq;
    std::function<void()> send;
    bool operator>(const pending& other) const {
      return due != other.due ? due > other.due : seq > other.seq;
    }
  };
  std::mutex timer_mtx;
  std::condition_variable timer_cv;
  std::priority_queue<pending, std::vector<pending>, std::greater<>> timers;
  uint64_t timer_seq = 0;
  bool stopping = false;
  std::thread timer_thread;

  impl(cloud_config cfg, http::server_config scfg, service_options options)
    : engine(std::move(cfg)), server_cfg(std::move(scfg)), opts(std::move(options)) {
    // nop
  }

  void load() {
    if (opts.state_file.empty()) return;
    std::ifstream in{opts.state_file};
    if (!in) return; // first run
    std::stringstream text;
    text << in.rdbuf();
    std::lock_guard guard{mtx};
    if (auto error = engine.load_state(text.str()))
      throw std::runtime_error("cannot load state file " + opts.state_file + ": " + *error);
  }

  void save() {
    if (opts.state_file.empty()) return;
    dirty = false;
    std::string snapshot;
    {
      std::lock_guard guard{mtx};
      snapshot = engine.save_state();
    }
    // Write-then-rename, so a crash mid-write leaves the previous snapshot intact.
    auto tmp = opts.state_file + ".tmp";
    {
      std::ofstream out{tmp, std::ios::trunc};
      out << snapshot;
      out.flush();
      if (!out) throw std::runtime_error("cannot write state file " + tmp);
    }
    if (std::rename(tmp.c_str(), opts.state_file.c_str()) != 0)
      throw std::runtime_error("cannot replace state file " + opts.state_file);
  }

  void run_timers() {
    std::unique_lock guard{timer_mtx};
    auto next_save = std::chrono::steady_clock::now() + std::chrono::seconds{1};
    while (!stopping) {
      if (!opts.state_file.empty() && std::chrono::steady_clock::now() >= next_save) {
        next_save = std::chrono::steady_clock::now() + std::chrono::seconds{1};
        if (dirty) {
          guard.unlock();
          try {
            save();
          } catch (const std::exception&) {
            dirty = true; // retried next second; stop() reports a lasting failure
          }
          guard.lock();
        }
        continue;
      }
      if (timers.empty()) {
        if (opts.state_file.empty())
          timer_cv.wait(guard);
        else
          timer_cv.wait_until(guard, next_save);
        continue;
      }
      auto due = timers.top().due;
      if (std::chrono::steady_clock::now() < due) {
        timer_cv.wait_until(guard, opts.state_file.empty() ? due : std::min(due, next_save));
        continue;
      }
      auto send = timers.top().send;
      timers.pop();
      guard.unlock();
      send();
      guard.lock();
    }
  }

  void later(std::chrono::milliseconds delay, std::function<void()> send) {
    {
      std::lock_guard guard{timer_mtx};
      timers.push(pending{std::chrono::steady_clock::now() + delay, ++timer_seq, std::move(send)});
    }
    timer_cv.notify_one();
  }

  void on_request(http::request&& req, http::responder respond) {
    auto sreq = from_beast(req);
    response res;
    {
      std::lock_guard guard{mtx};
      auto now = std::chrono::system_clock::now();
      res = engine.handle(sreq, now);
      // Before the answer leaves, so a client that sees ACTIVE finds its sshd started.
      if (ssh) ssh->sync(engine.active_servers(now));
    }
    dirty = true;
    auto delay = res.delay;
    if (res.drop_connection) {
      if (delay.count() <= 0) return respond.abort();
      return later(delay, [respond] { respond.abort(); });
    }
    auto out = to_beast(std::move(res), req.version(), req.keep_alive(),
                        req.method() == http::beast_http::verb::head);
    if (delay.count() <= 0) return respond(std::move(out));
    later(delay, [respond, out = std::move(out)]() mutable { respond(std::move(out)); });
  }
};

http_service::http_service(cloud_config cfg, http::server_config server_cfg, service_options opts)
  : impl_(std::make_unique<impl>(std::move(cfg), std::move(server_cfg), std::move(opts))) {
  // nop
}

http_service::~http_service() {
  try {
    stop();
  } catch (const std::exception&) {
    // nop: a destructor cannot report; call stop() to see the error
  }
}

void http_service::start() {
  auto self = impl_.get();
  self->load();
  if (self->opts.ssh_backing) self->ssh = std::make_unique<ssh_backing>(*self->opts.ssh_backing);
  self->server = std::make_unique<http::server>(
    self->server_cfg,
    [self](http::request&& req, const http::request_context&, http::responder respond) {
      self->on_request(std::move(req), std::move(respond));
    });
  self->server->start();
  {
    std::lock_guard guard{self->mtx};
    auto url = self->opts.public_url;
    if (url.empty()) {
      auto host = self->server_cfg.host;
      // A wildcard address is no place to send clients: point the catalog at loopback.
      if (host == "0.0.0.0") host = "127.0.0.1";
      if (host == "::") host = "::1";
      if (host.find(':') != std::string::npos) host = "[" + host + "]";
      url = "http://" + host + ":" + std::to_string(self->server->port());
    }
    self->engine.set_base_url(url);
  }
  self->timer_thread = std::thread{[self] { self->run_timers(); }};
}

void http_service::stop() {
  auto self = impl_.get();
  if (self->stopped || !self->server) return;
  self->stopped = true;
  self->server->stop(std::chrono::milliseconds{1000});
  {
    std::lock_guard guard{self->timer_mtx};
    self->stopping = true;
  }
  self->timer_cv.notify_all();
  if (self->timer_thread.joinable()) self->timer_thread.join();
  {
    std::lock_guard guard{self->mtx};
    if (self->ssh) self->ssh->stop_all();
  }
  self->save();
}

void http_service::save() {
  impl_->save();
}

uint16_t http_service::port() const noexcept {
  return impl_->server ? impl_->server->port() : 0;
}

std::string http_service::url() const {
  std::lock_guard guard{impl_->mtx};
  return impl_->engine.config().base_url;
}

void http_service::with_cloud(const std::function<void(cloud&)>& fn) {
  std::lock_guard guard{impl_->mtx};
  fn(impl_->engine);
}

} // namespace orch::sim
