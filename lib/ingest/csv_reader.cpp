#include "ingest/csv_reader.hpp"

#include "util/assert.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace billing {

namespace {

// Input is read in blocks of this size; the buffer also holds the current
// record (at most record_bytes_max bytes plus CRLF) across a block boundary.
constexpr std::size_t k_block_bytes = 1 << 20;
constexpr std::size_t k_npos = static_cast<std::size_t>(-1);
constexpr char k_bom[] = "\xEF\xBB\xBF";

std::size_t buffer_capacity(std::size_t record_bytes_max)
{
  BILLING_REQUIRE(record_bytes_max >= 1 && record_bytes_max <= k_record_bytes_max_limit);
  return record_bytes_max + 2 + k_block_bytes;
}

std::string_view trim_blanks(std::string_view s)
{
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

} // namespace

std::string_view to_string(CsvError e)
{
  switch (e) {
    case CsvError::line_too_long:
      return "line_too_long";
    case CsvError::unterminated_quote:
      return "unterminated_quote";
    case CsvError::bad_quote:
      return "bad_quote";
  }
  return "unknown";
}

// Where the record starting at `begin` ends, found without copying anything.
struct CsvReader::Scan
{
  enum class Kind
  {
    complete,      // ends at `end`: its '\n', or m_end at end of input
    need_more,     // the buffer ends inside the record
    too_long,      // not complete within record_bytes_max (+ CRLF)
    eof_in_quotes, // input ends inside a quoted field
  };
  Kind kind = Kind::complete;
  std::size_t end = 0;
  std::size_t first_newline = k_npos; // the first '\n' inside quotes, if any
  long long newlines = 0;             // '\n' inside quotes
};

CsvReader::CsvReader(std::istream& in, std::size_t record_bytes_max)
  : m_in(in)
  , m_record_bytes_max(record_bytes_max)
  , m_capacity(buffer_capacity(record_bytes_max))
  , m_buf(new char[m_capacity])
{
}

bool CsvReader::fill(std::size_t& keep_from)
{
  BILLING_REQUIRE(keep_from <= m_pos && m_pos <= m_end);
  if (m_eof) {
    return false;
  }
  if (keep_from > 0) {
    std::memmove(m_buf.get(), m_buf.get() + keep_from, m_end - keep_from);
    m_pos -= keep_from;
    m_end -= keep_from;
    keep_from = 0;
  }
  BILLING_REQUIRE(m_end < m_capacity);
  m_in.read(m_buf.get() + m_end, static_cast<std::streamsize>(m_capacity - m_end));
  if (m_in.bad()) {
    throw std::runtime_error("read error on CSV input");
  }
  const auto got = static_cast<std::size_t>(m_in.gcount());
  m_end += got;
  m_eof = m_in.eof() || got == 0;
  return got > 0;
}

CsvReader::Scan CsvReader::scan(std::size_t begin) const
{
  using Kind = Scan::Kind;
  const char* buf = m_buf.get();
  const std::size_t window_end = std::min(m_end, begin + m_record_bytes_max + 2);
  Scan out;

  // Fast path: a line without quotes ends at its '\n'.
  if (const void* nl = std::memchr(buf + begin, '\n', window_end - begin)) {
    const auto at = static_cast<std::size_t>(static_cast<const char*>(nl) - buf);
    if (std::memchr(buf + begin, '"', at - begin) == nullptr) {
      out.end = at;
      return out;
    }
  }

  // The lenient state machine that split_csv_record follows too: a quote opens
  // a quoted field only at the start of a field; after a closing quote,
  // anything but a comma or the line end makes the rest of the field literal.
  enum class State
  {
    unquoted,
    quoted,
    quote_in_quoted
  };
  State state = State::unquoted;
  bool at_field_start = true;
  for (std::size_t i = begin; i < window_end; ++i) {
    const char c = buf[i];
    switch (state) {
      case State::unquoted:
        if (c == '\n') {
          out.end = i;
          return out;
        }
        if (c == '"' && at_field_start) {
          state = State::quoted;
        }
        at_field_start = c == ',';
        break;
      case State::quoted:
        if (c == '"') {
          state = State::quote_in_quoted;
        } else if (c == '\n') {
          ++out.newlines;
          if (out.first_newline == k_npos) {
            out.first_newline = i;
          }
        }
        break;
      case State::quote_in_quoted:
        if (c == '"') { // an escaped quote
          state = State::quoted;
        } else if (c == '\n') {
          out.end = i;
          return out;
        } else {
          state = State::unquoted;
          at_field_start = c == ',';
        }
        break;
    }
  }
  if (window_end == begin + m_record_bytes_max + 2) {
    out.kind = Kind::too_long;
  } else if (!m_eof) {
    out.kind = Kind::need_more;
  } else if (state == State::quoted) {
    out.kind = Kind::eof_in_quotes;
  } else {
    out.end = m_end;
  }
  return out;
}

void CsvReader::skip_rest_of_line()
{
  for (;;) {
    const void* nl = std::memchr(m_buf.get() + m_pos, '\n', m_end - m_pos);
    if (nl != nullptr) {
      m_pos = static_cast<std::size_t>(static_cast<const char*>(nl) - m_buf.get()) + 1;
      return;
    }
    m_pos = m_end;
    std::size_t keep_from = m_end;
    if (!fill(keep_from)) {
      return;
    }
  }
}

void CsvReader::finish(CsvRecord& out, std::size_t begin, std::size_t raw_end, long long line)
{
  out.line = line;
  out.raw.assign(m_buf.get() + begin, raw_end - begin);
  out.error = split_csv_record(out.raw, out.fields);
}

bool CsvReader::next(CsvRecord& out)
{
  using Kind = Scan::Kind;
  if (!m_started) {
    m_started = true;
    std::size_t keep_from = m_pos;
    while (m_end - m_pos < 3 && fill(keep_from)) {
    }
    if (m_end - m_pos >= 3 && std::memcmp(m_buf.get() + m_pos, k_bom, 3) == 0) {
      m_pos += 3;
    }
  }

  for (;;) {
    std::size_t begin = m_pos;
    if (begin == m_end && !fill(begin)) {
      return false;
    }
    Scan s = scan(begin);
    while (s.kind == Kind::need_more) {
      fill(begin);
      s = scan(begin);
    }
    const long long line = m_lines_read + 1;
    const char* buf = m_buf.get();
    const std::size_t limit = m_record_bytes_max;

    // A record that cannot be completed within the limit or before end of input,
    // and that ran over a newline inside quotes: its first physical line is the
    // bad record, and reading resumes on the line after it.
    if ((s.kind == Kind::too_long || s.kind == Kind::eof_in_quotes) && s.first_newline != k_npos) {
      std::size_t raw_end = s.first_newline;
      if (raw_end > begin && buf[raw_end - 1] == '\r') {
        --raw_end;
      }
      const bool overlong = raw_end - begin > limit;
      finish(out, begin, std::min(raw_end, begin + limit), line);
      out.error = overlong ? CsvError::line_too_long : CsvError::unterminated_quote;
      m_pos = s.first_newline + 1;
      m_lines_read += 1;
      return true;
    }

    if (s.kind == Kind::too_long) {
      // One physical line longer than the limit: keep its head, skip the rest.
      finish(out, begin, begin + limit, line);
      out.error = CsvError::line_too_long;
      m_pos = begin + limit;
      skip_rest_of_line();
      m_lines_read += 1;
      return true;
    }

    if (s.kind == Kind::eof_in_quotes) {
      const bool overlong = m_end - begin > limit;
      finish(out, begin, std::min(m_end, begin + limit), line);
      out.error = overlong ? CsvError::line_too_long : CsvError::unterminated_quote;
      m_pos = m_end;
      m_lines_read += 1;
      return true;
    }

    // Complete.
    const bool has_newline = s.end < m_end;
    std::size_t raw_end = s.end;
    if (raw_end > begin && buf[raw_end - 1] == '\r') {
      --raw_end;
    }
    m_pos = has_newline ? s.end + 1 : s.end;
    m_lines_read += 1 + s.newlines;
    if (raw_end == begin) {
      ++m_blank_lines;
      continue;
    }
    if (raw_end - begin > limit) {
      finish(out, begin, begin + limit, line);
      out.error = CsvError::line_too_long;
      return true;
    }
    finish(out, begin, raw_end, line);
    return true;
  }
}

std::optional<CsvError> split_csv_record(std::string_view raw, std::vector<std::string>& fields)
{
  std::optional<CsvError> error;
  const auto flag = [&error](CsvError e) {
    if (!error) {
      error = e;
    }
  };
  std::size_t count = 0;
  std::size_t i = 0;
  const std::size_t size = raw.size();
  for (;;) {
    if (count < fields.size()) {
      fields[count].clear();
    } else {
      fields.emplace_back();
    }
    std::string& field = fields[count++];

    if (i < size && raw[i] == '"') {
      ++i;
      for (;;) {
        const std::size_t quote = raw.find('"', i);
        if (quote == std::string_view::npos) {
          field.append(raw.substr(i));
          i = size;
          flag(CsvError::unterminated_quote);
          break;
        }
        field.append(raw.substr(i, quote - i));
        i = quote + 1;
        if (i < size && raw[i] == '"') {
          field.push_back('"');
          ++i;
          continue;
        }
        break;
      }
      if (i < size && raw[i] != ',') {
        // Text after the closing quote: kept literally up to the next comma.
        flag(CsvError::bad_quote);
        const std::size_t comma = std::min(raw.find(',', i), size);
        field.append(raw.substr(i, comma - i));
        i = comma;
      }
    } else {
      const std::size_t comma = std::min(raw.find(',', i), size);
      const std::string_view text = raw.substr(i, comma - i);
      if (text.find('"') != std::string_view::npos) {
        flag(CsvError::bad_quote);
      }
      field.assign(text);
      i = comma;
    }

    if (i >= size) {
      break;
    }
    ++i; // the comma; a comma at the very end leaves one more, empty, field
  }
  fields.resize(count);
  return error;
}

bool is_valid_utf8(std::string_view text)
{
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p != end) {
    // ASCII runs, eight bytes at a time.
    while (end - p >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) != 0) {
        break;
      }
      p += 8;
    }
    if (p == end) {
      break;
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    // Allowed second-byte range per lead byte (Unicode Table 3-7), which is what
    // rules out overlongs (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF)
    // and code points above U+10FFFF (F4 90.., F5..FF).
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      low = c == 0xE0 ? 0xA0 : 0x80;
      high = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      low = c == 0xF0 ? 0x90 : 0x80;
      high = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < length || p[1] < low || p[1] > high) {
      return false;
    }
    for (std::size_t k = 2; k < length; ++k) {
      if (p[k] < 0x80 || p[k] > 0xBF) {
        return false;
      }
    }
    p += length;
  }
  return true;
}

std::variant<CsvHeader, std::string> CsvHeader::from_record(
  const CsvRecord& header,
  std::span<const std::string_view> required,
  std::span<const std::string_view> optional)
{
  if (header.error) {
    return "header row (line " + std::to_string(header.line)
           + "): " + std::string(to_string(*header.error));
  }
  const auto known = [&](std::string_view name) {
    return std::find(required.begin(), required.end(), name) != required.end()
           || std::find(optional.begin(), optional.end(), name) != optional.end();
  };
  CsvHeader out;
  out.m_column_count = header.fields.size();
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    const std::string_view name = trim_blanks(header.fields[i]);
    if (!known(name)) {
      continue;
    }
    if (out.index_of(name)) {
      return "header row: column '" + std::string(name) + "' appears more than once";
    }
    out.m_columns.emplace_back(std::string(name), i);
  }
  for (const std::string_view name : required) {
    if (!out.index_of(name)) {
      return "header row: required column '" + std::string(name) + "' is missing";
    }
  }
  return out;
}

std::optional<std::size_t> CsvHeader::index_of(std::string_view name) const
{
  for (const auto& [column, index] : m_columns) {
    if (column == name) {
      return index;
    }
  }
  return std::nullopt;
}

} // namespace billing
