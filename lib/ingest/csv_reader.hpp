// Streaming RFC 4180 reader for usage logs and import files, plus a small
// header-to-column map for them.
//
// Memory is constant whatever the file size: the reader holds one block of
// input and at most `record_bytes_max` bytes of the current record. A bad
// record never stops the reader and never swallows the good records after it:
//  - a physical line longer than the limit is reported once (line_too_long,
//    raw truncated to the limit) and reading resumes on the next physical line;
//  - a quoted field that is not closed before end of file, or not within the
//    limit, is reported as its first physical line (unterminated_quote) and
//    reading resumes on the line after it, so a stray quote costs one line;
//  - stray quotes (text after a closing quote, a quote inside an unquoted
//    field) are kept as literal text and flagged bad_quote; the record ends at
//    its line end as usual.
// Line terminators are LF or CRLF; a lone CR is data. A UTF-8 byte order mark
// at the very start is dropped. A completely empty physical line is skipped: it
// is no record (counted in lines_read() and blank_lines(), never returned).
// Bytes are passed through as they are; UTF-8 validity is the caller's check.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace billing {

enum class CsvError
{
  line_too_long,      // the physical line exceeds record_bytes_max
  unterminated_quote, // a quoted field not closed by end of file or within the limit
  bad_quote,          // text after a closing quote, or a quote inside an unquoted field
};

std::string_view to_string(CsvError e);

struct CsvRecord
{
  long long line = 0; // physical line (1-based) where the record starts
  std::string raw;    // the record's bytes without its terminator; may hold newlines
  // The fields, unquoted. On an error they hold what could be parsed (possibly
  // incomplete), so a caller can still label the record (e.g. by its event_id).
  std::vector<std::string> fields;
  std::optional<CsvError> error;
};

inline constexpr std::size_t k_record_bytes_max_default = 64 * 1024;
inline constexpr std::size_t k_record_bytes_max_limit = 1024 * 1024 * 1024;

class CsvReader
{
public:
  // Reads from `in`, which must outlive the reader.
  // REQUIRES: 1 <= record_bytes_max <= k_record_bytes_max_limit.
  explicit CsvReader(std::istream& in, std::size_t record_bytes_max = k_record_bytes_max_default);

  // Fills `out` with the next record (reusing its buffers) and returns true;
  // returns false at end of input. Throws std::runtime_error when the stream
  // reports a read error (an infrastructure failure, not a bad record).
  bool next(CsvRecord& out);

  // Physical lines consumed so far, blank ones included.
  long long lines_read() const { return m_lines_read; }
  // Blank lines skipped so far.
  long long blank_lines() const { return m_blank_lines; }

private:
  struct Scan;

  bool fill(std::size_t& keep_from);
  Scan scan(std::size_t begin) const;
  void skip_rest_of_line();
  void finish(CsvRecord& out, std::size_t begin, std::size_t raw_end, long long line);

  std::istream& m_in;
  std::size_t m_record_bytes_max;
  std::size_t m_capacity;
  std::unique_ptr<char[]> m_buf;
  std::size_t m_pos = 0; // first unconsumed byte
  std::size_t m_end = 0; // end of buffered bytes
  bool m_eof = false;
  bool m_started = false; // the BOM check has been done
  long long m_lines_read = 0;
  long long m_blank_lines = 0;
};

// Splits one record's raw bytes into `fields` (reusing their buffers).
// Returns the error the text shows (bad_quote, unterminated_quote) or nullopt.
// Lenient: stray quotes are kept as literal text.
std::optional<CsvError> split_csv_record(std::string_view raw, std::vector<std::string>& fields);

// True when `text` is well-formed UTF-8: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view text);

// Maps the column names of a header row to their positions. Names are matched
// exactly (case-sensitive) after trimming surrounding spaces and tabs; columns
// not named in `required` or `optional` are ignored.
class CsvHeader
{
public:
  // The map, or a one-line message: the header record has a CSV error, a
  // required column is missing, or a known column appears more than once.
  static std::variant<CsvHeader, std::string> from_record(
    const CsvRecord& header,
    std::span<const std::string_view> required,
    std::span<const std::string_view> optional = {});

  // The position of a known column, nullopt when an optional one is absent.
  std::optional<std::size_t> index_of(std::string_view name) const;
  // The number of columns of the header row (every data row must have as many).
  std::size_t column_count() const { return m_column_count; }

private:
  CsvHeader() = default;

  std::vector<std::pair<std::string, std::size_t>> m_columns;
  std::size_t m_column_count = 0;
};

} // namespace billing
