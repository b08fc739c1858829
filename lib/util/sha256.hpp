// SHA-256 (FIPS 180-4), streaming, for the content hash that makes usage-log
// ingest idempotent per file. The digest itself is OpenSSL's (EVP interface,
// libcrypto); this wrapper owns the EVP context and turns a failure of the
// library into an exception.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st; // OpenSSL's EVP_MD_CTX, kept out of this header

namespace billing {

class Sha256
{
public:
  // Throws std::runtime_error when OpenSSL cannot set up the digest.
  Sha256();
  // REQUIRES: hex_digest() not called yet. Throws std::runtime_error when
  // OpenSSL fails.
  void update(const void* data, std::size_t size);
  // The digest as 64 lowercase hex digits. The object is spent afterwards.
  // REQUIRES: not called before. Throws std::runtime_error when OpenSSL fails.
  std::string hex_digest();

private:
  struct ContextDeleter
  {
    void operator()(evp_md_ctx_st* ctx) const;
  };

  std::unique_ptr<evp_md_ctx_st, ContextDeleter> m_ctx;
  bool m_spent = false;
};

// Lowercase hex of bytes, and back (how raw input lines are stored: any
// bytes, in any backend's text column).
std::string to_hex(std::string_view bytes);
// REQUIRES: hex holds an even number of hex digits (as to_hex makes).
std::string from_hex(std::string_view hex);

} // namespace billing
