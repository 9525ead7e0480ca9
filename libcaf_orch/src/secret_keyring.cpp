#include "orch/secret_keyring.hpp"

#include <array>
#include <memory>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "orch/errc.hpp"

namespace orch {

namespace {

constexpr size_t key_size = 32;
constexpr size_t nonce_size = 12;
constexpr size_t tag_size = 16;
constexpr size_t min_secret_key_size = 16;

// One label per purpose, so a key derived for one use is never valid for another.
constexpr std::string_view aead_info = "orch cloud credentials aes-256-gcm v1";
constexpr std::string_view hkdf_salt = "orch secret_keyring";
constexpr std::string_view key_id_message = "orch key id";

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
using pkey_ctx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes_of(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

std::string hkdf_sha256(std::string_view secret, std::string_view info) {
  pkey_ctx ctx{EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), EVP_PKEY_CTX_free};
  std::string out(key_size, '\0');
  size_t out_len = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0
      || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0
      || EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), bytes_of(hkdf_salt),
                                     static_cast<int>(hkdf_salt.size()))
           <= 0
      || EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), bytes_of(secret), static_cast<int>(secret.size()))
           <= 0
      || EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes_of(info), static_cast<int>(info.size())) <= 0
      || EVP_PKEY_derive(ctx.get(), bytes_of(out), &out_len) <= 0 || out_len != key_size)
    return {};
  return out;
}

caf::error too_short(std::string_view setting) {
  return make_error(errc::invalid_config, std::string{setting} + " must be at least "
                                            + std::to_string(min_secret_key_size) + " characters");
}

caf::error crypto_failure(std::string_view what) {
  return make_error(errc::internal, "OpenSSL failed to " + std::string{what});
}

caf::error cannot_open() {
  // Deliberately one message for every cause: a wrong key version is reported separately.
  return make_error(errc::invalid_spec,
                    "sealed secret does not authenticate (tampered with, or sealed for another "
                    "region)");
}

} // namespace

caf::expected<secret_keyring> secret_keyring::make(std::string_view current,
                                                   const std::vector<std::string>& previous) {
  if (current.size() < min_secret_key_size) return too_short("SECRET_KEY");
  for (const auto& p : previous)
    if (p.size() < min_secret_key_size) return too_short("every SECRET_KEY_PREVIOUS entry");
  secret_keyring result;
  auto add = [&](std::string_view secret) -> caf::error {
    auto version = version_of(secret);
    if (result.has_version(version)) return caf::none; // the same key listed twice
    auto derived = hkdf_sha256(secret, aead_info);
    if (derived.empty() || version.empty()) return crypto_failure("derive a key (HKDF)");
    result.keys_.push_back(key{std::move(version), std::move(derived)});
    return caf::none;
  };
  if (auto err = add(current)) return err;
  for (const auto& p : previous)
    if (auto err = add(p)) return err;
  return result;
}

std::string secret_keyring::version_of(std::string_view secret_key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), secret_key.data(), static_cast<int>(secret_key.size()),
           bytes_of(key_id_message), key_id_message.size(), mac.data(), &mac_len)
      == nullptr)
    return {};
  static constexpr char hex[] = "0123456789abcdef";
  std::string result;
  for (size_t i = 0; i < 4; ++i) {
    result.push_back(hex[mac[i] >> 4]);
    result.push_back(hex[mac[i] & 0x0f]);
  }
  return result;
}

bool secret_keyring::has_version(std::string_view version) const noexcept {
  for (const auto& k : keys_)
    if (k.version == version) return true;
  return false;
}

caf::expected<sealed_secret> secret_keyring::seal(std::string_view plaintext,
                                                  std::string_view associated_data) const {
  const auto& k = keys_.front();
  std::string out(nonce_size + plaintext.size() + tag_size, '\0');
  auto* nonce = bytes_of(out);
  auto* ciphertext = nonce + nonce_size;
  auto* tag = ciphertext + plaintext.size();
  if (RAND_bytes(nonce, static_cast<int>(nonce_size)) != 1)
    return crypto_failure("produce a random nonce");
  cipher_ctx ctx{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size),
                             nullptr)
           != 1
      || EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(k.aead_key), nonce) != 1
      || EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(associated_data),
                           static_cast<int>(associated_data.size()))
           != 1
      || EVP_EncryptUpdate(ctx.get(), ciphertext, &len, bytes_of(plaintext),
                           static_cast<int>(plaintext.size()))
           != 1
      || EVP_EncryptFinal_ex(ctx.get(), ciphertext + len, &len) != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), tag) != 1)
    return crypto_failure("encrypt (AES-256-GCM)");
  return sealed_secret{k.version, std::move(out)};
}

caf::expected<std::string> secret_keyring::open(const sealed_secret& sealed,
                                                std::string_view associated_data) const {
  const key* k = nullptr;
  for (const auto& candidate : keys_)
    if (candidate.version == sealed.key_version) k = &candidate;
  if (k == nullptr)
    return make_error(errc::invalid_config,
                      "sealed by key version '" + sealed.key_version
                        + "', which is neither SECRET_KEY nor in SECRET_KEY_PREVIOUS (current "
                          "version '"
                        + current_version() + "')");
  if (sealed.bytes.size() < nonce_size + tag_size) return cannot_open();
  std::string_view in{sealed.bytes};
  auto nonce = in.substr(0, nonce_size);
  auto ciphertext = in.substr(nonce_size, in.size() - nonce_size - tag_size);
  std::string tag{in.substr(in.size() - tag_size)};
  std::string out(ciphertext.size(), '\0');
  cipher_ctx ctx{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size),
                             nullptr)
           != 1
      || EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(k->aead_key), bytes_of(nonce))
           != 1
      || EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(associated_data),
                           static_cast<int>(associated_data.size()))
           != 1
      || EVP_DecryptUpdate(ctx.get(), bytes_of(out), &len, bytes_of(ciphertext),
                           static_cast<int>(ciphertext.size()))
           != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size),
                             bytes_of(tag))
           != 1)
    return crypto_failure("decrypt (AES-256-GCM)");
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), bytes_of(out) + len, &final_len) != 1) {
    // Nothing of an unauthenticated plaintext may leave this function.
    OPENSSL_cleanse(out.data(), out.size());
    return cannot_open();
  }
  return out;
}

} // namespace orch
