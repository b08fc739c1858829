#include "reports/csv_writer.hpp"

namespace billing {

namespace {

bool is_number(std::string_view s)
{
  if (s.empty()) {
    return false;
  }
  size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0;
  if (i == s.size()) {
    return false;
  }
  bool dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] == '.' && !dot) {
      dot = true;
    } else if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

// Valid UTF-8 through json_quote's repair, without the JSON escaping.
std::string valid_utf8(std::string_view text)
{
  bool ascii = true;
  for (char c : text) {
    ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  }
  if (ascii) {
    return std::string(text);
  }
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    bool ok = len > 0 && c < 0xF5 && i + len <= text.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    } else if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

} // namespace

std::string csv_cell(std::string_view text)
{
  std::string value = valid_utf8(text);
  if (!value.empty() && !is_number(value)
      && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@'
          || value[0] == '\t' || value[0] == '\r')) {
    value.insert(value.begin(), '\'');
  }
  if (value.find_first_of(",\"\r\n") == std::string::npos) {
    return value;
  }
  std::string quoted = "\"";
  for (char c : value) {
    quoted += c;
    if (c == '"') {
      quoted += '"';
    }
  }
  quoted += '"';
  return quoted;
}

void CsvWriter::separator()
{
  if (!m_first) {
    m_out << ',';
  }
  m_first = false;
}

CsvWriter& CsvWriter::cell(std::string_view text)
{
  separator();
  m_out << csv_cell(text);
  return *this;
}

CsvWriter& CsvWriter::cell(long long number)
{
  separator();
  m_out << number;
  return *this;
}

void CsvWriter::end_row()
{
  m_out << '\n';
  m_first = true;
}

} // namespace billing
