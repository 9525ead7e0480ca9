#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "orch/persistence/template_repository.hpp"
#include "orch/time.hpp"
#include "orch/uuid.hpp"

namespace orch::persistence {

/// A `template_repository` held in memory, with the same semantics as the PostgreSQL one:
/// names unique among live templates, soft deletes, listings ordered by name. Thread-safe.
/// Meant for unit tests of other modules and for the contract test.
class memory_template_repository : public template_repository {
public:
  /// Reads the current time; lets tests pin `created_at`/`updated_at`.
  using clock_function = std::function<timestamp()>;

  /// Answers whether a deployment that is not DELETED refers to the template `id`.
  using in_use_function = std::function<bool(const uuid& id)>;

  /// Uses the system clock and treats every template as unused.
  memory_template_repository();

  /// Uses `clock` for timestamps.
  explicit memory_template_repository(clock_function clock);

  /// Replaces the check `remove` makes before deleting; stands in for the deployments table.
  void set_in_use_check(in_use_function in_use);

  /// Makes every following call fail with `err` (e.g. `errc::store_unavailable`, to test how a
  /// caller handles a database outage) until called again with `caf::none`.
  void set_failure(caf::error err);

  caf::expected<stored_template> create(const template_spec& spec) override;

  caf::expected<stored_template> find(std::string_view id_or_name) override;

  caf::expected<page<stored_template>> list(int limit, int offset) override;

  caf::expected<stored_template> replace(std::string_view id_or_name,
                                         const template_spec& spec) override;

  caf::error remove(std::string_view id_or_name) override;

private:
  struct row {
    stored_template value;
    bool deleted = false;
  };

  /// Index of the live row matching `id_or_name`, or `rows_.size()`. Requires `mtx_`.
  size_t locate(std::string_view id_or_name) const;

  /// Whether a live row other than `except` is named `name`. Requires `mtx_`.
  bool name_taken(const std::string& name, size_t except) const;

  timestamp now() const;

  mutable std::mutex mtx_;
  clock_function clock_;
  in_use_function in_use_;
  caf::error failure_;
  std::vector<row> rows_;
};

} // namespace orch::persistence
