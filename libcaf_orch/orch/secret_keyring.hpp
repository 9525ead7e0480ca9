#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace orch {

/// A secret sealed with AES-256-GCM by one key of a `secret_keyring`.
struct sealed_secret {
  /// Which key sealed it: 8 lower-case hex digits, see `secret_keyring::version_of`.
  std::string key_version;
  /// The 12-byte nonce, the ciphertext and the 16-byte tag, concatenated (binary).
  std::string bytes;
};

/// Seals and opens stored secrets (cloud passwords, application credential secrets) with keys
/// derived from `SECRET_KEY`, and from the keys in `SECRET_KEY_PREVIOUS` while they rotate out.
///
/// Each key is derived with HKDF-SHA256 under its own `info` label per purpose; each value gets a
/// fresh random 96-bit nonce and is bound to its associated data (the cloud region), so a
/// ciphertext copied into another row does not open. Never logs, and no error carries a secret.
class secret_keyring {
public:
  /// Builds the ring from the current key and the previous ones (each at least 16 characters);
  /// `errc::invalid_config` naming the offending setting (never its value) otherwise.
  static caf::expected<secret_keyring> make(std::string_view current,
                                            const std::vector<std::string>& previous = {});

  /// The key version of `secret_key`: the first 8 hex digits of
  /// HMAC-SHA256(`secret_key`, "orch key id"). Reveals nothing usable about the key.
  static std::string version_of(std::string_view secret_key);

  /// Version of the key that `seal` uses.
  const std::string& current_version() const noexcept { return keys_.front().version; }

  /// Whether a key of this version is in the ring.
  bool has_version(std::string_view version) const noexcept;

  /// Seals `plaintext` with the current key, bound to `associated_data`.
  caf::expected<sealed_secret> seal(std::string_view plaintext,
                                    std::string_view associated_data) const;

  /// Opens `sealed` with the key of its version. `errc::invalid_config` if no key of that version
  /// is in the ring (naming the version); `errc::invalid_spec` if the value was tampered with,
  /// belongs to other associated data, or is malformed.
  caf::expected<std::string> open(const sealed_secret& sealed,
                                  std::string_view associated_data) const;

private:
  struct key {
    std::string version;
    /// 32 bytes of HKDF output.
    std::string aead_key;
  };

  secret_keyring() = default;

  std::vector<key> keys_;
};

} // namespace orch
