#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "orch/template_spec.hpp"

namespace orch::persistence {

/// One page of a listing, with the total number of matching rows.
template <class T>
struct page {
  std::vector<T> items;
  int64_t total = 0;
  int limit = 0;
  int offset = 0;
};

/// Stores deployment templates. Names are unique among templates that are not deleted.
/// Every call may fail with `errc::store_unavailable` when the database is down.
class template_repository {
public:
  virtual ~template_repository() = default;

  /// Stores a new template with a fresh id; `errc::conflict` if the name is taken.
  virtual caf::expected<stored_template> create(const template_spec& spec) = 0;

  /// Looks a live template up by id (canonical UUID text) or else by name; `errc::not_found`.
  virtual caf::expected<stored_template> find(std::string_view id_or_name) = 0;

  /// Live templates ordered by name; `limit` 1..500, `offset` >= 0.
  virtual caf::expected<page<stored_template>> list(int limit, int offset) = 0;

  /// Replaces the whole template (name included); keeps `id` and `created_at`.
  /// `errc::not_found`; `errc::conflict` if the new name belongs to another template.
  virtual caf::expected<stored_template> replace(std::string_view id_or_name,
                                                 const template_spec& spec)
    = 0;

  /// Deletes the template; `errc::not_found`; `errc::conflict` while a deployment that is not
  /// DELETED refers to it.
  virtual caf::error remove(std::string_view id_or_name) = 0;
};

} // namespace orch::persistence
