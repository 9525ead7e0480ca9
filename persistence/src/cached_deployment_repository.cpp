#include "orch/persistence/cached_deployment_repository.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace orch::persistence {

namespace {

using steady_clock = std::chrono::steady_clock;

struct uuid_hash {
  std::size_t operator()(const uuid& x) const noexcept {
    // Ids are random (version 4): any eight of their bytes are a good hash.
    uint64_t h = 0;
    std::memcpy(&h, x.bytes.data() + 8, sizeof(h));
    return static_cast<std::size_t>(h);
  }
};

// One lock per shard keeps I/O threads and pool threads from queueing on a single mutex.
class shard {
public:
  struct entry {
    uuid id;
    std::shared_ptr<const deployment_record> record;
    steady_clock::time_point stored_at;
  };

  std::shared_ptr<const deployment_record> find(const uuid& id, steady_clock::time_point now,
                                                std::chrono::milliseconds max_age) {
    std::lock_guard guard{mtx_};
    auto i = index_.find(id);
    if (i == index_.end()) return nullptr;
    if (now - i->second->stored_at > max_age) {
      lru_.erase(i->second);
      index_.erase(i);
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, i->second);
    return i->second->record;
  }

  uint64_t generation() {
    std::lock_guard guard{mtx_};
    return generation_;
  }

  // Keeps `rec` unless a write to this shard finished since `seen` was taken: the read may
  // then predate that write.
  void store(const uuid& id, std::shared_ptr<const deployment_record> rec, uint64_t seen,
             steady_clock::time_point now, std::size_t capacity) {
    std::lock_guard guard{mtx_};
    if (generation_ != seen || capacity == 0) return;
    if (auto i = index_.find(id); i != index_.end()) {
      i->second->record = std::move(rec);
      i->second->stored_at = now;
      lru_.splice(lru_.begin(), lru_, i->second);
      return;
    }
    while (index_.size() >= capacity) {
      index_.erase(lru_.back().id);
      lru_.pop_back();
    }
    lru_.push_front(entry{id, std::move(rec), now});
    index_.emplace(id, lru_.begin());
  }

  void drop(const uuid& id) {
    std::lock_guard guard{mtx_};
    ++generation_;
    if (auto i = index_.find(id); i != index_.end()) {
      lru_.erase(i->second);
      index_.erase(i);
    }
  }

private:
  std::mutex mtx_;
  uint64_t generation_ = 0;
  std::list<entry> lru_;
  std::unordered_map<uuid, std::list<entry>::iterator, uuid_hash> index_;
};

constexpr std::size_t shard_count = 16;

} // namespace

class deployment_cache {
public:
  explicit deployment_cache(deployment_cache_config cfg)
    : cfg_(std::move(cfg)), per_shard_((cfg_.capacity + shard_count - 1) / shard_count) {
    if (!cfg_.now) cfg_.now = [] { return steady_clock::now(); };
  }

  std::shared_ptr<const deployment_record> find(const uuid& id) {
    return shard_of(id).find(id, cfg_.now(), cfg_.max_age);
  }

  uint64_t generation(const uuid& id) { return shard_of(id).generation(); }

  void store(const deployment_record& rec, uint64_t seen) {
    shard_of(rec.id).store(rec.id, std::make_shared<const deployment_record>(rec), seen, cfg_.now(),
                           per_shard_);
  }

  void drop(const uuid& id) { shard_of(id).drop(id); }

private:
  shard& shard_of(const uuid& id) { return shards_[id.bytes[0] % shard_count]; }

  deployment_cache_config cfg_;
  std::size_t per_shard_;
  std::array<shard, shard_count> shards_;
};

namespace {

class cached_deployment_repository final : public deployment_repository {
public:
  cached_deployment_repository(deployment_repository& store,
                               std::shared_ptr<deployment_cache> cache)
    : store_(store), cache_(std::move(cache)) {
    // nop
  }

  std::shared_ptr<const deployment_record> cached(const uuid& id) override {
    return cache_->find(id);
  }

  caf::expected<deployment_record> get(const uuid& id) override {
    if (auto hit = cache_->find(id)) return *hit;
    auto seen = cache_->generation(id);
    auto rec = store_.get(id);
    if (rec) cache_->store(*rec, seen);
    return rec;
  }

  caf::expected<create_outcome> create(const deployment_record& rec,
                                       const std::optional<idempotency_claim>& claim) override {
    dropper guard{*this, rec.id};
    return store_.create(rec, claim);
  }

  caf::expected<page<deployment_record>> list(const deployment_filter& filter) override {
    return store_.list(filter);
  }

  caf::expected<int64_t> append_events(const uuid& id, int64_t epoch,
                                       const event_batch& batch) override {
    dropper guard{*this, id};
    return store_.append_events(id, epoch, batch);
  }

  caf::expected<stored_history> load(const uuid& id) override { return store_.load(id); }

  caf::expected<std::vector<deployment_event>> events(const uuid& id, int64_t after_seq,
                                                      int limit) override {
    return store_.events(id, after_seq, limit);
  }

  caf::expected<std::vector<uuid>> list_unfinished(const std::string& node_id) override {
    return store_.list_unfinished(node_id);
  }

  caf::expected<fleet_summary> summary() override { return store_.summary(); }

  caf::expected<lease_grant> claim(const uuid& id, const lease_terms& lease) override {
    dropper guard{*this, id};
    return store_.claim(id, lease);
  }

private:
  // Drops the copy once the write returned, also when the store threw: the write may still
  // have committed.
  struct dropper {
    cached_deployment_repository& self;
    uuid id;
    ~dropper() { self.cache_->drop(id); }
  };

  deployment_repository& store_;
  std::shared_ptr<deployment_cache> cache_;
};

} // namespace

std::shared_ptr<deployment_cache> make_deployment_cache(deployment_cache_config cfg) {
  return std::make_shared<deployment_cache>(std::move(cfg));
}

std::unique_ptr<deployment_repository>
make_cached_deployment_repository(deployment_repository& store,
                                  std::shared_ptr<deployment_cache> cache) {
  return std::make_unique<cached_deployment_repository>(store, std::move(cache));
}

std::unique_ptr<deployment_repository>
make_cached_deployment_repository(deployment_repository& store, deployment_cache_config cfg) {
  return make_cached_deployment_repository(store, make_deployment_cache(std::move(cfg)));
}

} // namespace orch::persistence
