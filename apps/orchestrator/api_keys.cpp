#include "api_keys.hpp"

#include <array>
#include <iomanip>
#include <ostream>
#include <stdexcept>

#include <openssl/rand.h>

#include "orch/errc.hpp"
#include "orch/logging.hpp"

namespace orch::app {

namespace {

constexpr const char* keys_usage = R"(usage: orchestrator keys <command>

commands:
  add NAME read|write   store a new key and print it (shown once; only its SHA-256 is stored)
  list                  every key: id, name, scope, created, revoked (never the key itself)
  revoke ID|NAME        revoke an active key

Running servers pick changes up within seconds, without restart.
)";

int refused(std::ostream& err, const caf::error& e) {
  err << "orchestrator keys: " << error_detail(e) << '\n';
  return is(e, errc::invalid_spec) ? 2 : 1;
}

} // namespace

void print_keys_usage(std::ostream& out) {
  out << keys_usage;
}

std::string generate_api_key() {
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<unsigned char, 33> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("no random bytes from OpenSSL");
  // 33 bytes are exactly 44 characters of 6 bits: no padding.
  std::string key = "orch_";
  for (size_t i = 0; i < bytes.size(); i += 3) {
    unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) key.push_back(alphabet[(v >> shift) & 0x3f]);
  }
  return key;
}

int run_keys_command(persistence::api_key_repository& repo, const std::vector<std::string>& args,
                     std::ostream& out, std::ostream& err) {
  auto command = args.empty() ? std::string{"help"} : args[0];
  if (command == "help" || command == "--help" || command == "-h") {
    print_keys_usage(out);
    return 0;
  }
  if (command == "add" && args.size() == 3 && (args[2] == "read" || args[2] == "write")) {
    auto key = generate_api_key();
    auto scope = args[2] == "write" ? api_scope::write : api_scope::read;
    auto stored = repo.add(args[1], scope, http::authenticator::key_hash(key));
    if (!stored) return refused(err, stored.error());
    out << key << '\n';
    err << "stored key '" << stored->name << "' (" << to_string(scope) << "), id "
        << to_string(stored->id) << ". Keep the key now: it is not shown again.\n";
    return 0;
  }
  if (command == "list" && args.size() == 1) {
    auto keys = repo.list();
    if (!keys) return refused(err, keys.error());
    out << std::left << std::setw(38) << "ID" << std::setw(24) << "NAME" << std::setw(7) << "SCOPE"
        << std::setw(29) << "CREATED"
        << "REVOKED\n";
    for (const auto& k : *keys)
      out << std::setw(38) << to_string(k.id) << std::setw(24) << k.name << std::setw(7)
          << to_string(k.scope) << std::setw(29) << to_rfc3339(k.created_at)
          << (k.revoked_at ? to_rfc3339(*k.revoked_at) : std::string{"-"}) << '\n';
    return 0;
  }
  if (command == "revoke" && args.size() == 2) {
    auto revoked = repo.revoke(args[1]);
    if (!revoked) return refused(err, revoked.error());
    out << "revoked key '" << revoked->name << "' (" << to_string(revoked->id) << ")\n";
    return 0;
  }
  err << "orchestrator keys: unexpected arguments\n" << keys_usage;
  return 2;
}

stored_key_refresher::stored_key_refresher(persistence::api_key_repository& repo,
                                           apply_function apply, std::chrono::milliseconds interval)
  : repo_(repo), apply_(std::move(apply)), interval_(interval) {
  refresh();
  worker_ = std::thread{[this] {
    std::unique_lock lock{mtx_};
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      refresh();
      lock.lock();
    }
  }};
}

stored_key_refresher::~stored_key_refresher() {
  {
    std::lock_guard guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

bool stored_key_refresher::refresh() {
  auto log = logger("orch.app");
  auto keys = repo_.active();
  if (!keys) {
    // Once per outage, not once per interval.
    if (!last_failed_)
      log->warn("cannot read stored API keys ({}); the last ones stay in force",
                error_detail(keys.error()));
    last_failed_ = true;
    return false;
  }
  if (last_failed_) log->info("stored API keys readable again");
  last_failed_ = false;
  std::vector<http::hashed_api_key> hashed;
  hashed.reserve(keys->size());
  for (const auto& k : *keys) hashed.push_back({k.key_hash, k.scope});
  if (hashed.size() != last_count_) log->info("{} stored API key(s) active", hashed.size());
  last_count_ = hashed.size();
  apply_(hashed);
  return true;
}

} // namespace orch::app
