#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace orch::persistence {

/// Settings of a `listener`.
struct listener_config {
  /// libpq connection string: a `postgresql://` URI or `key=value` pairs.
  std::string url;
  /// The channel to `LISTEN` on (an SQL identifier: letters, digits and `_`).
  std::string channel;
  /// Time allowed to open the connection (libpq rounds to whole seconds, at least 1).
  std::chrono::milliseconds connect_timeout{5'000};
  /// Wait before the first reconnection attempt; it doubles after each failure up to
  /// `max_backoff`.
  std::chrono::milliseconds min_backoff{250};
  std::chrono::milliseconds max_backoff{8'000};
};

/// Called with each notification's payload, on the listener's thread; must not block.
using notification_handler = std::function<void(std::string_view payload)>;

/// Called on the listener's thread each time it (re)starts listening, first time included:
/// notifications sent while it was not connected are lost, so whoever relies on them should
/// catch up (read again what it watches). Must not block.
using listening_handler = std::function<void()>;

/// Listens to one PostgreSQL notification channel over a connection of its own (not a pooled
/// one: a `LISTEN` belongs to its session), on a thread of its own, and hands every payload to
/// `on_notification`. When PostgreSQL goes away it reconnects with a doubling backoff, logging
/// the loss once and the recovery once. Generic: SSE fan-out uses channel `deployment_events`;
/// anything else that wants to hear about other writers can listen on its own channel.
class listener {
public:
  /// Starts the thread; the first connection is made there, so a database that is down at
  /// start only delays the listening. `errc`-free: failures are logged and retried.
  listener(listener_config cfg, notification_handler on_notification,
           listening_handler on_listening = {});

  /// Stops the thread and closes the connection.
  ~listener();

  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  /// `true` while a connection is open and listening.
  bool is_listening() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orch::persistence
