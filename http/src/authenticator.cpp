#include "orch/http/authenticator.hpp"

#include <cstdio>

#include <boost/beast/core/string.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace orch::http {

namespace bhttp = boost::beast::http;

namespace {

std::string_view ssv(boost::beast::string_view x) {
  return {x.data(), x.size()};
}

std::string_view trim(std::string_view x) {
  while (!x.empty() && (x.front() == ' ' || x.front() == '\t')) x.remove_prefix(1);
  while (!x.empty() && (x.back() == ' ' || x.back() == '\t')) x.remove_suffix(1);
  return x;
}

} // namespace

authenticator::digest authenticator::hash(std::string_view key) {
  digest result{};
  unsigned int size = 0;
  EVP_Digest(key.data(), key.size(), result.data(), &size, EVP_sha256(), nullptr);
  return result;
}

authenticator::authenticator(const std::vector<api_key>& keys) {
  set_keys(keys);
}

std::string authenticator::key_hash(std::string_view key) {
  static constexpr char hex[] = "0123456789abcdef";
  auto d = hash(key);
  std::string result;
  result.reserve(d.size() * 2);
  for (auto byte : d) {
    result.push_back(hex[byte >> 4]);
    result.push_back(hex[byte & 0x0f]);
  }
  return result;
}

void authenticator::set_keys(const std::vector<api_key>& keys) {
  std::lock_guard guard{update_mtx_};
  configured_.clear();
  for (auto& k : keys) configured_.push_back(entry{hash(k.key), k.scope == api_scope::write});
  publish();
}

void authenticator::set_stored_keys(const std::vector<hashed_api_key>& keys) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<entry> parsed;
  for (const auto& k : keys) {
    entry e{{}, k.scope == api_scope::write};
    bool ok = k.sha256_hex.size() == e.hash.size() * 2;
    for (size_t i = 0; ok && i < e.hash.size(); ++i) {
      auto hi = nibble(k.sha256_hex[2 * i]);
      auto lo = nibble(k.sha256_hex[2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      e.hash[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    // A malformed digest can match no key: skipping it loses nothing.
    if (ok) parsed.push_back(e);
  }
  std::lock_guard guard{update_mtx_};
  stored_ = std::move(parsed);
  publish();
}

void authenticator::publish() {
  auto table = std::make_shared<std::vector<entry>>(configured_);
  table->insert(table->end(), stored_.begin(), stored_.end());
  keys_.store(std::move(table));
}

std::string_view authenticator::presented_key(const request& req) {
  if (auto it = req.find("X-API-Key"); it != req.end()) return trim(ssv(it->value()));
  if (auto it = req.find(bhttp::field::authorization); it != req.end()) {
    auto value = trim(ssv(it->value()));
    constexpr std::string_view scheme = "bearer ";
    if (value.size() > scheme.size()
        && boost::beast::iequals(boost::beast::string_view{value.data(), scheme.size()},
                                 boost::beast::string_view{scheme.data(), scheme.size()}))
      return trim(value.substr(scheme.size()));
  }
  return {};
}

auth_outcome authenticator::check(const request& req) const {
  auth_outcome result;
  auto key = presented_key(req);
  if (key.empty()) return result;
  auto presented = hash(key);
  auto table = keys_.load();
  // Every entry is compared, so the time taken does not tell which key (if any) matched.
  const entry* found = nullptr;
  for (auto& e : *table)
    if (CRYPTO_memcmp(e.hash.data(), presented.data(), presented.size()) == 0) found = &e;
  if (found == nullptr) {
    result.status = auth_status::unknown;
    return result;
  }
  char name[16];
  std::snprintf(name, sizeof(name), "key-%02x%02x%02x%02x", presented[0], presented[1],
                presented[2], presented[3]);
  result.principal = name;
  result.can_write = found->can_write;
  auto method = req.method();
  auto reading = method == bhttp::verb::get || method == bhttp::verb::head;
  result.status = reading || found->can_write ? auth_status::allowed : auth_status::forbidden;
  return result;
}

bool authenticator::is_open_route(bhttp::verb method, std::string_view path) noexcept {
  if (method != bhttp::verb::get && method != bhttp::verb::head) return false;
  if (!path.empty() && path.size() > 1 && path.back() == '/' && path != "/ui/")
    path.remove_suffix(1);
  return path == "/health" || path == "/health/ready" || path == "/metrics"
         || path == "/openapi.json" || path == "/ui" || path.starts_with("/ui/");
}

} // namespace orch::http
