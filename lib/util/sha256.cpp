#include "util/sha256.hpp"

#include "util/assert.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace billing {

namespace {

[[noreturn]] void throw_openssl_error(const char* call)
{
  std::string message = std::string("SHA-256: ") + call + " failed";
  if (const unsigned long code = ERR_get_error(); code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    message += std::string(": ") + reason;
  }
  ERR_clear_error();
  throw std::runtime_error(message);
}

} // namespace

void Sha256::ContextDeleter::operator()(evp_md_ctx_st* ctx) const
{
  EVP_MD_CTX_free(ctx);
}

Sha256::Sha256()
  : m_ctx(EVP_MD_CTX_new())
{
  if (!m_ctx) {
    throw_openssl_error("EVP_MD_CTX_new");
  }
  if (EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw_openssl_error("EVP_DigestInit_ex");
  }
}

void Sha256::update(const void* data, std::size_t size)
{
  BILLING_REQUIRE(!m_spent);
  if (EVP_DigestUpdate(m_ctx.get(), data, size) != 1) {
    throw_openssl_error("EVP_DigestUpdate");
  }
}

std::string Sha256::hex_digest()
{
  BILLING_REQUIRE(!m_spent);
  m_spent = true;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(m_ctx.get(), digest, &size) != 1) {
    throw_openssl_error("EVP_DigestFinal_ex");
  }
  BILLING_REQUIRE(size == 32);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), size));
}

std::string to_hex(std::string_view bytes)
{
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += k_digits[b >> 4];
    out += k_digits[b & 15];
  }
  return out;
}

std::string from_hex(std::string_view hex)
{
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  }
  return out;
}

} // namespace billing
