#include "reports/csv_writer.hpp"

#include "util/text.hpp"

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
