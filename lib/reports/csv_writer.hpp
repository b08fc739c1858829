// CSV output (RFC 4180, UTF-8, CRLF-free LF lines, header row) that is safe
// to open in a spreadsheet: a text cell that would run as a formula (starting
// with '=', '+', '-', '@', tab or carriage return, and not a number) gets a
// leading apostrophe (SPEC section 10, the OWASP recommendation).
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace billing {

// The cell as written: neutralised, then quoted when it holds a comma, quote
// or line break. Bytes that are not valid UTF-8 become U+FFFD.
std::string csv_cell(std::string_view text);

class CsvWriter
{
public:
  explicit CsvWriter(std::ostream& out)
    : m_out(out)
  {
  }

  CsvWriter& cell(std::string_view text);
  CsvWriter& cell(long long number);
  void end_row();

private:
  void separator();

  std::ostream& m_out;
  bool m_first = true;
};

} // namespace billing
