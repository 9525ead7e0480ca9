#include <chrono>
#include <map>
#include <mutex>

#include "cloud_rules.hpp"
#include "orch/persistence/cloud_repository.hpp"

namespace orch::persistence {

namespace {

class memory_cloud_repository : public cloud_repository {
public:
  explicit memory_cloud_repository(std::function<bool(std::string_view)> region_in_use)
    : region_in_use_(std::move(region_in_use)) {
    // nop
  }

  caf::expected<stored_cloud> put(const stored_cloud& cloud) override {
    if (auto err = check_cloud(cloud)) return err;
    std::lock_guard guard{mtx_};
    auto stored = cloud;
    stored.updated_at = now();
    auto i = clouds_.find(cloud.region);
    stored.created_at = i == clouds_.end() ? stored.updated_at : i->second.created_at;
    clouds_[stored.region] = stored;
    return stored;
  }

  caf::expected<std::vector<stored_cloud>> list() override {
    std::lock_guard guard{mtx_};
    std::vector<stored_cloud> result;
    for (const auto& [region, cloud] : clouds_) result.push_back(cloud);
    return result;
  }

  caf::expected<stored_cloud> get(std::string_view region) override {
    std::lock_guard guard{mtx_};
    auto i = clouds_.find(region);
    if (i == clouds_.end()) return unknown_cloud(region);
    return i->second;
  }

  caf::expected<stored_cloud> remove(std::string_view region) override {
    std::lock_guard guard{mtx_};
    auto i = clouds_.find(region);
    if (i == clouds_.end()) return unknown_cloud(region);
    if (region_in_use_ && region_in_use_(region)) return cloud_in_use(region);
    auto result = std::move(i->second);
    clouds_.erase(i);
    return result;
  }

  caf::expected<stored_cloud> replace_secret(std::string_view region, const sealed_secret& expected,
                                             const sealed_secret& replacement) override {
    auto candidate = stored_cloud{};
    {
      std::lock_guard guard{mtx_};
      auto i = clouds_.find(region);
      if (i == clouds_.end()) return unknown_cloud(region);
      candidate = i->second;
    }
    candidate.secret = replacement;
    if (auto err = check_cloud(candidate)) return err;
    std::lock_guard guard{mtx_};
    auto i = clouds_.find(region);
    if (i == clouds_.end()) return unknown_cloud(region);
    auto& current = i->second.secret;
    if (current.key_version != expected.key_version || current.bytes != expected.bytes)
      return cloud_secret_changed(region);
    i->second.secret = replacement;
    i->second.updated_at = now();
    return i->second;
  }

private:
  static timestamp now() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now());
  }

  std::function<bool(std::string_view)> region_in_use_;
  std::mutex mtx_;
  std::map<std::string, stored_cloud, std::less<>> clouds_;
};

} // namespace

std::unique_ptr<cloud_repository>
make_memory_cloud_repository(std::function<bool(std::string_view region)> region_in_use) {
  return std::make_unique<memory_cloud_repository>(std::move(region_in_use));
}

} // namespace orch::persistence
