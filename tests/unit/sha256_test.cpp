#include "util/sha256.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace billing;

namespace {

std::string sha256_of(const std::string& text, size_t piece)
{
  Sha256 h;
  for (size_t i = 0; i < text.size(); i += piece) {
    h.update(text.data() + i, std::min(piece, text.size() - i));
  }
  return h.hex_digest();
}

} // namespace

TEST(Sha256Test, MatchesTheFipsVectorsWhateverTheUpdateSizes)
{
  struct Case
  {
    std::string input;
    const char* digest;
  };
  const Case cases[] = {
    { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmno"
      "pq"
      "rsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
    { std::string(1000000, 'a'),
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
  };
  for (const Case& c : cases) {
    for (size_t piece : { 1UL, 3UL, 7UL, 55UL, 56UL, 63UL, 64UL, 65UL, 127UL, 4096UL, 65537UL }) {
      if (c.input.size() > 100000 && piece < 64) {
        continue;
      }
      EXPECT_EQ(sha256_of(c.input, piece), c.digest) << "piece " << piece;
    }
  }
}

TEST(Sha256Test, EmptyUpdatesChangeNothing)
{
  Sha256 h;
  h.update("ab", 2);
  h.update(nullptr, 0);
  h.update("c", 1);
  EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, HashesAreIndependentObjects)
{
  Sha256 a;
  Sha256 b;
  a.update("abc", 3);
  b.update("", 0);
  EXPECT_EQ(b.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(a.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, HexRoundTripsEveryByte)
{
  std::string bytes;
  for (int b = 0; b < 256; ++b) {
    bytes += static_cast<char>(b);
  }
  const std::string hex = to_hex(bytes);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  EXPECT_EQ(from_hex(hex), bytes);
  EXPECT_EQ(from_hex("ABCDEF"), "\xab\xcd\xef");
}
