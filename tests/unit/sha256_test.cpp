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
    { std::string(1000000, 'a'),
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
  };
  for (const Case& c : cases) {
    for (size_t piece : { 1UL, 3UL, 63UL, 64UL, 65UL, 4096UL }) {
      if (c.input.size() > 100000 && piece < 64) {
        continue;
      }
      EXPECT_EQ(sha256_of(c.input, piece), c.digest) << "piece " << piece;
    }
  }
}
