#include "orch/persistence/memory_template_repository.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "orch/errc.hpp"

namespace orch::persistence {

namespace {

timestamp system_now() {
  return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

caf::error check_paging(int limit, int offset) {
  if (limit < 1 || limit > 500)
    return make_error(errc::invalid_spec, "limit must be between 1 and 500");
  if (offset < 0) return make_error(errc::invalid_spec, "offset must be >= 0");
  return caf::none;
}

caf::error check_spec(const template_spec& spec) {
  if (spec.name.empty()) return make_error(errc::invalid_spec, "template name must not be empty");
  return caf::none;
}

caf::error name_conflict(const std::string& name) {
  return make_error(errc::conflict, "template name '" + name + "' is already taken");
}

caf::error unknown_template(std::string_view id_or_name) {
  return make_error(errc::not_found, "template '" + std::string{id_or_name} + "' not found");
}

} // namespace

memory_template_repository::memory_template_repository() : memory_template_repository(system_now) {
  // nop
}

memory_template_repository::memory_template_repository(clock_function clock)
  : clock_(std::move(clock)) {
  // nop
}

void memory_template_repository::set_in_use_check(in_use_function in_use) {
  std::lock_guard guard{mtx_};
  in_use_ = std::move(in_use);
}

void memory_template_repository::set_failure(caf::error err) {
  std::lock_guard guard{mtx_};
  failure_ = std::move(err);
}

caf::expected<stored_template> memory_template_repository::create(const template_spec& spec) {
  if (auto err = check_spec(spec)) return err;
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  if (name_taken(spec.name, rows_.size())) return name_conflict(spec.name);
  auto at = now();
  row entry{stored_template{uuid::random(), spec, at, at}, false};
  rows_.push_back(entry);
  return entry.value;
}

caf::expected<stored_template> memory_template_repository::find(std::string_view id_or_name) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto index = locate(id_or_name);
  if (index == rows_.size()) return unknown_template(id_or_name);
  return rows_[index].value;
}

caf::expected<page<stored_template>> memory_template_repository::list(int limit, int offset) {
  if (auto err = check_paging(limit, offset)) return err;
  std::vector<const stored_template*> live;
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  for (const auto& entry : rows_)
    if (!entry.deleted) live.push_back(&entry.value);
  // Same collation-free order the pg repository asks for ("ORDER BY name COLLATE \"C\"").
  std::sort(live.begin(), live.end(),
            [](const auto* lhs, const auto* rhs) { return lhs->spec.name < rhs->spec.name; });
  page<stored_template> result;
  result.total = static_cast<int64_t>(live.size());
  result.limit = limit;
  result.offset = offset;
  auto first = std::min(live.size(), static_cast<size_t>(offset));
  auto last = std::min(live.size(), first + static_cast<size_t>(limit));
  for (auto i = first; i < last; ++i) result.items.push_back(*live[i]);
  return result;
}

caf::expected<stored_template> memory_template_repository::replace(std::string_view id_or_name,
                                                                   const template_spec& spec) {
  if (auto err = check_spec(spec)) return err;
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto index = locate(id_or_name);
  if (index == rows_.size()) return unknown_template(id_or_name);
  if (name_taken(spec.name, index)) return name_conflict(spec.name);
  auto& value = rows_[index].value;
  value.spec = spec;
  value.updated_at = std::max(now(), value.updated_at);
  return value;
}

caf::error memory_template_repository::remove(std::string_view id_or_name) {
  std::lock_guard guard{mtx_};
  if (failure_) return failure_;
  auto index = locate(id_or_name);
  if (index == rows_.size()) return unknown_template(id_or_name);
  auto& entry = rows_[index];
  if (in_use_ && in_use_(entry.value.id))
    return make_error(errc::conflict, "template '" + entry.value.spec.name
                                        + "' is used by a deployment that is not DELETED");
  entry.deleted = true;
  return caf::none;
}

size_t memory_template_repository::locate(std::string_view id_or_name) const {
  auto live = [](const row& entry) { return !entry.deleted; };
  if (auto id = uuid::parse(id_or_name)) {
    for (size_t i = 0; i < rows_.size(); ++i)
      if (live(rows_[i]) && rows_[i].value.id == *id) return i;
  }
  for (size_t i = 0; i < rows_.size(); ++i)
    if (live(rows_[i]) && rows_[i].value.spec.name == id_or_name) return i;
  return rows_.size();
}

bool memory_template_repository::name_taken(const std::string& name, size_t except) const {
  for (size_t i = 0; i < rows_.size(); ++i)
    if (i != except && !rows_[i].deleted && rows_[i].value.spec.name == name) return true;
  return false;
}

timestamp memory_template_repository::now() const {
  return clock_();
}

} // namespace orch::persistence
