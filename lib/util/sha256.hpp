// SHA-256 (FIPS 180-4), streaming, for the content hash that makes usage-log
// ingest idempotent per file. No external crypto library is needed for this.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace billing {

class Sha256
{
public:
  Sha256();
  void update(const void* data, std::size_t size);
  // The digest as 64 lowercase hex digits. The object is spent afterwards.
  std::string hex_digest();

private:
  void block(const std::uint8_t* p);

  std::array<std::uint32_t, 8> m_h;
  std::array<std::uint8_t, 64> m_buf{};
  std::size_t m_buf_len = 0;
  std::uint64_t m_total_bytes = 0;
};

// Lowercase hex of bytes, and back (how raw input lines are stored: any
// bytes, in any backend's text column).
std::string to_hex(std::string_view bytes);
// REQUIRES: hex holds an even number of hex digits (as to_hex makes).
std::string from_hex(std::string_view hex);

} // namespace billing
