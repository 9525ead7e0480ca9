#include <algorithm>
#include <chrono>
#include <mutex>

#include "api_key_rules.hpp"
#include "orch/persistence/api_key_repository.hpp"

namespace orch::persistence {

namespace {

class memory_api_key_repository : public api_key_repository {
public:
  caf::expected<stored_api_key> add(std::string_view name, api_scope scope,
                                    std::string_view key_hash) override {
    if (auto err = check_new_api_key(name, key_hash)) return err;
    std::lock_guard guard{mtx_};
    for (const auto& k : keys_) {
      if (k.revoked_at) continue;
      if (k.name == name) return api_key_name_taken(name);
      if (k.key_hash == key_hash) return make_error(errc::conflict, "this key is already stored");
    }
    stored_api_key key{uuid::random(), std::string{name}, scope, std::string{key_hash}, now(), {}};
    keys_.push_back(key);
    return key;
  }

  caf::expected<std::vector<stored_api_key>> list() override {
    std::lock_guard guard{mtx_};
    return keys_;
  }

  caf::expected<std::vector<stored_api_key>> active() override {
    std::lock_guard guard{mtx_};
    std::vector<stored_api_key> result;
    std::copy_if(keys_.begin(), keys_.end(), std::back_inserter(result),
                 [](const stored_api_key& k) { return !k.revoked_at; });
    return result;
  }

  caf::expected<stored_api_key> revoke(std::string_view id_or_name) override {
    std::lock_guard guard{mtx_};
    auto id = uuid::parse(id_or_name);
    auto match = [&](bool by_id) {
      return std::find_if(keys_.begin(), keys_.end(), [&](const stored_api_key& k) {
        return !k.revoked_at && (by_id ? id && k.id == *id : k.name == id_or_name);
      });
    };
    auto i = match(true);
    if (i == keys_.end()) i = match(false);
    if (i == keys_.end()) return unknown_api_key(id_or_name);
    i->revoked_at = now();
    return *i;
  }

private:
  static timestamp now() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now());
  }

  std::mutex mtx_;
  std::vector<stored_api_key> keys_;
};

} // namespace

std::unique_ptr<api_key_repository> make_memory_api_key_repository() {
  return std::make_unique<memory_api_key_repository>();
}

} // namespace orch::persistence
