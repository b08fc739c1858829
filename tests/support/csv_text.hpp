// CSV test data (unit, database and fuzz tests): a cell that holds any text.
#pragma once

#include <string>
#include <string_view>

namespace billing::testing {

// `text` as one RFC 4180 cell: quoted, quotes doubled, so commas, quotes,
// line breaks and any other bytes survive.
inline std::string csv_cell(std::string_view text)
{
  std::string out = "\"";
  for (const char c : text) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

} // namespace billing::testing
