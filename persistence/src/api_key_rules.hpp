#pragma once

#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "orch/errc.hpp"

namespace orch::persistence {

/// The checks both `api_key_repository` implementations make before storing a key.
inline caf::error check_new_api_key(std::string_view name, std::string_view key_hash) {
  if (name.empty() || name.size() > 200)
    return make_error(errc::invalid_spec, "key name must be 1..200 characters");
  bool hex = key_hash.size() == 64;
  for (char c : key_hash) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex)
    return make_error(errc::invalid_spec, "key hash must be 64 lower-case hex digits (SHA-256)");
  return caf::none;
}

inline caf::error api_key_name_taken(std::string_view name) {
  return make_error(errc::conflict, "an active key is already named '" + std::string{name} + "'");
}

inline caf::error unknown_api_key(std::string_view id_or_name) {
  return make_error(errc::not_found,
                    "no active key with id or name '" + std::string{id_or_name} + "'");
}

} // namespace orch::persistence
