#include "orch/persistence/listener.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <system_error>
#include <thread>
#include <utility>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/notification>

#include "log.hpp"
#include "pg_pool.hpp"

namespace orch::persistence {

namespace {

// Hands each payload of its channel to the handler; a throwing handler must not end the
// listening (libpqxx would only print the exception).
class receiver final : public pqxx::notification_receiver {
public:
  receiver(pqxx::connection_base& conn, const std::string& channel,
           const notification_handler& handler)
    : pqxx::notification_receiver(conn, channel), handler_(handler) {
    // nop
  }

  void operator()(const std::string& payload, int) override {
    try {
      handler_(payload);
    } catch (const std::exception& ex) {
      log()->error("listener {}: notification handler failed: {}", channel(), ex.what());
    }
  }

private:
  const notification_handler& handler_;
};

} // namespace

struct listener::impl {
  impl(listener_config config, notification_handler notified, listening_handler started)
    : cfg(std::move(config)), on_notification(std::move(notified)),
      on_listening(std::move(started)),
      conninfo(detail::with_connect_timeout(cfg.url, cfg.connect_timeout)),
      wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (wake_fd < 0) throw std::system_error{errno, std::generic_category(), "eventfd"};
  }

  ~impl() { ::close(wake_fd); }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof(one));
  }

  // Waits up to `timeout` (forever when negative) for `fd` to be readable or for `stop`;
  // returns false on `stop`.
  bool wait_readable(int fd, int timeout_ms) {
    pollfd fds[2] = {{wake_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    for (;;) {
      auto n = ::poll(fds, fd < 0 ? 1 : 2, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::system_error{errno, std::generic_category(), "poll"};
      return !stopping.load() && (fds[0].revents & POLLIN) == 0;
    }
  }

  // One session: connect, LISTEN, deliver until the connection breaks or `stop`.
  void listen_once() {
    pqxx::connection conn{conninfo};
    // A broken connection must surface here, not be reopened behind our back (libpqxx 6
    // reconnects on the next statement, e.g. the UNLISTEN of the receiver's destructor). The
    // switch is deprecated because libpqxx 7 dropped reconnection altogether.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn.inhibit_reactivation(true);
#pragma GCC diagnostic pop
    receiver r{conn, cfg.channel, on_notification};
    listening.store(true);
    if (lost) {
      log()->info("listener {}: listening again", cfg.channel);
      lost = false;
    } else {
      log()->info("listener {}: listening", cfg.channel);
    }
    if (on_listening) on_listening();
    while (!stopping.load()) {
      if (conn.sock() < 0) throw pqxx::broken_connection{"the connection is closed"};
      if (!wait_readable(conn.sock(), -1)) return;
      // Reads what arrived and runs the receiver per notification; a closed socket throws.
      conn.get_notifs();
      if (!conn.is_open()) throw pqxx::broken_connection{"the connection is closed"};
    }
  }

  void run() {
    auto delay = cfg.min_backoff;
    while (!stopping.load()) {
      try {
        listen_once();
        delay = cfg.min_backoff;
      } catch (const std::exception& ex) {
        listening.store(false);
        if (!lost) {
          // Once per outage: the attempts that follow log at debug.
          log()->warn("listener {}: not listening ({}); reconnecting with backoff", cfg.channel,
                      detail::one_line(ex.what()));
          lost = true;
        } else {
          log()->debug("listener {}: reconnection failed ({})", cfg.channel,
                       detail::one_line(ex.what()));
        }
      }
      listening.store(false);
      if (stopping.load()) break;
      if (!wait_readable(-1, static_cast<int>(delay.count()))) break;
      delay = std::min(delay * 2, cfg.max_backoff);
    }
  }

  listener_config cfg;
  notification_handler on_notification;
  listening_handler on_listening;
  std::string conninfo;
  int wake_fd;
  std::atomic<bool> stopping{false};
  std::atomic<bool> listening{false};
  // Only the thread touches it: whether the last session or attempt failed.
  bool lost = false;
  std::thread thread;
};

listener::listener(listener_config cfg, notification_handler on_notification,
                   listening_handler on_listening)
  : impl_(
    std::make_unique<impl>(std::move(cfg), std::move(on_notification), std::move(on_listening))) {
  impl_->thread = std::thread{[st = impl_.get()] {
    try {
      st->run();
    } catch (const std::exception& ex) {
      log()->error("listener {}: stopped: {}", st->cfg.channel, ex.what());
    }
  }};
}

listener::~listener() {
  impl_->stopping.store(true);
  impl_->wake();
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool listener::is_listening() const noexcept {
  return impl_->listening.load();
}

} // namespace orch::persistence
