// Small text helpers shared by the readers: strict integer parsing.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billing {

enum class IntParse
{
  ok,
  bad_number,
  out_of_range
};

// Plain decimal: an optional '-' and 1+ digits, nothing else (no '+', no
// spaces, no fraction). Overflowing 64 bits is out_of_range.
inline IntParse parse_int64(std::string_view text, long long& out)
{
  if (text.empty()) {
    return IntParse::bad_number;
  }
  const size_t digits_from = text[0] == '-' ? 1 : 0;
  if (digits_from == text.size()) {
    return IntParse::bad_number;
  }
  for (size_t i = digits_from; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return IntParse::bad_number;
    }
  }
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec == std::errc::result_out_of_range) {
    return IntParse::out_of_range;
  }
  return ec == std::errc{} && p == text.data() + text.size() ? IntParse::ok : IntParse::bad_number;
}

// `text` with every byte that is not part of well-formed UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF included) replaced by
// U+FFFD, so whatever an input held can be stored, logged and exported.
std::string valid_utf8(std::string_view text);

// The items joined by `separator` ("a;b;c").
std::string joined(const std::vector<std::string>& items, std::string_view separator);

} // namespace billing
