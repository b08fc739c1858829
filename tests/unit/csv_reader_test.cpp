#include "ingest/csv_reader.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace billing {
namespace {

struct Expected
{
  long long line = 0;
  std::string raw;
  std::vector<std::string> fields;
  std::optional<CsvError> error;
};

struct ReadResult
{
  std::vector<Expected> records;
  long long lines_read = 0;
  long long blank_lines = 0;
};

ReadResult read_all(const std::string& text, std::size_t limit = k_record_bytes_max_default)
{
  std::istringstream in(text);
  CsvReader reader(in, limit);
  ReadResult out;
  CsvRecord record; // reused on purpose: stale fields must never leak through
  while (reader.next(record)) {
    out.records.push_back({ record.line, record.raw, record.fields, record.error });
  }
  out.lines_read = reader.lines_read();
  out.blank_lines = reader.blank_lines();
  return out;
}

void expect_records(const ReadResult& got, const std::vector<Expected>& want)
{
  ASSERT_EQ(got.records.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(got.records[i].line, want[i].line);
    EXPECT_EQ(got.records[i].raw, want[i].raw);
    EXPECT_EQ(got.records[i].fields, want[i].fields);
    EXPECT_EQ(got.records[i].error, want[i].error);
  }
}

struct Case
{
  const char* name;
  std::string input;
  std::size_t limit;
  std::vector<Expected> records;
  long long lines_read;
};

const std::vector<Case> k_good_inputs = {
  { "empty file", "", 64, {}, 0 },
  { "bom only", "\xEF\xBB\xBF", 64, {}, 0 },
  { "header only", "a,b\n", 64, { { 1, "a,b", { "a", "b" }, {} } }, 1 },
  { "lf", "a,b\nc,d\n", 64, { { 1, "a,b", { "a", "b" }, {} }, { 2, "c,d", { "c", "d" }, {} } }, 2 },
  { "crlf",
    "a,b\r\nc,d\r\n",
    64,
    { { 1, "a,b", { "a", "b" }, {} }, { 2, "c,d", { "c", "d" }, {} } },
    2 },
  { "no trailing newline",
    "a,b\nc,d",
    64,
    { { 1, "a,b", { "a", "b" }, {} }, { 2, "c,d", { "c", "d" }, {} } },
    2 },
  { "no trailing newline after crlf lines",
    "a\r\nb",
    64,
    { { 1, "a", { "a" }, {} }, { 2, "b", { "b" }, {} } },
    2 },
  { "bom stripped",
    "\xEF\xBB\xBF"
    "a,b\n",
    64,
    { { 1, "a,b", { "a", "b" }, {} } },
    1 },
  { "bom only at the very start",
    "a\n\xEF\xBB\xBF"
    "b\n",
    64,
    { { 1, "a", { "a" }, {} },
      { 2,
        "\xEF\xBB\xBF"
        "b",
        { "\xEF\xBB\xBF"
          "b" },
        {} } },
    2 },
  { "blank lines skipped but counted",
    "a\n\n\r\nb\n\n",
    64,
    { { 1, "a", { "a" }, {} }, { 4, "b", { "b" }, {} } },
    5 },
  { "empty fields", ",,\n", 64, { { 1, ",,", { "", "", "" }, {} } }, 1 },
  { "trailing comma gives an empty last field", "a,\n", 64, { { 1, "a,", { "a", "" }, {} } }, 1 },
  { "spaces kept", " a , b \n", 64, { { 1, " a , b ", { " a ", " b " }, {} } }, 1 },
  { "quoted comma", "\"a,b\",c\n", 64, { { 1, "\"a,b\",c", { "a,b", "c" }, {} } }, 1 },
  { "escaped quotes",
    "\"a\"\"b\",\"\"\"\"\n",
    64,
    { { 1, "\"a\"\"b\",\"\"\"\"", { "a\"b", "\"" }, {} } },
    1 },
  { "empty quoted field", "\"\",x\n", 64, { { 1, "\"\",x", { "", "x" }, {} } }, 1 },
  { "quoted last field without newline", "a,\"b\"", 64, { { 1, "a,\"b\"", { "a", "b" }, {} } }, 1 },
  { "embedded lf keeps line numbers",
    "\"a\nb\",c\nd\n\"x\n\ny\"\ne\n",
    64,
    { { 1, "\"a\nb\",c", { "a\nb", "c" }, {} },
      { 3, "d", { "d" }, {} },
      { 4, "\"x\n\ny\"", { "x\n\ny" }, {} },
      { 7, "e", { "e" }, {} } },
    7 },
  { "embedded crlf kept in the field",
    "\"a\r\nb\"\r\nc\r\n",
    64,
    { { 1, "\"a\r\nb\"", { "a\r\nb" }, {} }, { 3, "c", { "c" }, {} } },
    3 },
  { "lone cr is data", "a\rb,c\n", 64, { { 1, "a\rb,c", { "a\rb", "c" }, {} } }, 1 },
  { "record exactly at the limit",
    "12345678\r\nx\n",
    8,
    { { 1, "12345678", { "12345678" }, {} }, { 2, "x", { "x" }, {} } },
    2 },
  { "utf-8 passed through",
    "\xC3\xA9t\xC3\xA9,\xF0\x9F\x98\x80\n",
    64,
    { { 1,
        "\xC3\xA9t\xC3\xA9,\xF0\x9F\x98\x80",
        { "\xC3\xA9t\xC3\xA9", "\xF0\x9F\x98\x80" },
        {} } },
    1 },
};

TEST(CsvReaderTest, ReadsGoodInputs)
{
  for (const Case& c : k_good_inputs) {
    SCOPED_TRACE(c.name);
    const ReadResult got = read_all(c.input, c.limit);
    expect_records(got, c.records);
    EXPECT_EQ(got.lines_read, c.lines_read);
  }
}

const std::vector<Case> k_bad_inputs = {
  { "text after closing quote",
    "\"a\"b,c\nd\n",
    64,
    { { 1, "\"a\"b,c", { "ab", "c" }, CsvError::bad_quote }, { 2, "d", { "d" }, {} } },
    2 },
  { "quote inside unquoted field does not open a quote",
    "a\"b,c\nd\n",
    64,
    { { 1, "a\"b,c", { "a\"b", "c" }, CsvError::bad_quote }, { 2, "d", { "d" }, {} } },
    2 },
  { "unterminated quote at end of file",
    "x\na,\"bc",
    64,
    { { 1, "x", { "x" }, {} }, { 2, "a,\"bc", { "a", "bc" }, CsvError::unterminated_quote } },
    2 },
  { "unterminated quote costs only its own line",
    "x,\"oops\ny,2\nz,3\n",
    64,
    { { 1, "x,\"oops", { "x", "oops" }, CsvError::unterminated_quote },
      { 2, "y,2", { "y", "2" }, {} },
      { 3, "z,3", { "z", "3" }, {} } },
    3 },
  { "overlong line truncated and the next record read",
    "short\n0123456789abc\nnext\n",
    8,
    { { 1, "short", { "short" }, {} },
      { 2, "01234567", { "01234567" }, CsvError::line_too_long },
      { 3, "next", { "next" }, {} } },
    3 },
  { "one byte over the limit",
    "123456789\r\nx\n",
    8,
    { { 1, "12345678", { "12345678" }, CsvError::line_too_long }, { 2, "x", { "x" }, {} } },
    2 },
  { "overlong last line without newline",
    "a\n0123456789",
    8,
    { { 1, "a", { "a" }, {} }, { 2, "01234567", { "01234567" }, CsvError::line_too_long } },
    2 },
  { "overlong line with commas keeps the parsed head",
    "id1,22,333333333\nb\n",
    8,
    { { 1, "id1,22,3", { "id1", "22", "3" }, CsvError::line_too_long }, { 2, "b", { "b" }, {} } },
    2 },
  { "overlong line opening a quote resyncs at its line end",
    "a,\"0123456789\nb\n",
    8,
    { { 1, "a,\"01234", { "a", "01234" }, CsvError::line_too_long }, { 2, "b", { "b" }, {} } },
    2 },
  { "quoted field not closed within the limit costs its first line",
    "\"a\nbbbbbbbbbbbb\"\nc\n",
    8,
    { { 1, "\"a", { "a" }, CsvError::unterminated_quote },
      { 2, "bbbbbbbb", { "bbbbbbbb" }, CsvError::line_too_long },
      { 3, "c", { "c" }, {} } },
    3 },
  { "complete multi-line record over the limit is skipped whole",
    "\"a\nbcdef\"\nc\n",
    8,
    { { 1, "\"a\nbcdef", { "a\nbcdef" }, CsvError::line_too_long }, { 3, "c", { "c" }, {} } },
    3 },
};

TEST(CsvReaderTest, FlagsBadInputsAndKeepsReading)
{
  for (const Case& c : k_bad_inputs) {
    SCOPED_TRACE(c.name);
    const ReadResult got = read_all(c.input, c.limit);
    expect_records(got, c.records);
    EXPECT_EQ(got.lines_read, c.lines_read);
  }
}

TEST(CsvReaderTest, LineLongerThanTheReadBlockIsReportedOnceAndTheNextRecordRead)
{
  const std::string huge(3 * 1024 * 1024 + 17, 'x');
  const ReadResult got = read_all("a,b\n" + huge + "\r\nc,d\n");
  ASSERT_EQ(got.records.size(), 3u);
  EXPECT_EQ(got.records[1].line, 2);
  EXPECT_EQ(got.records[1].error, CsvError::line_too_long);
  EXPECT_EQ(got.records[1].raw.size(), k_record_bytes_max_default);
  EXPECT_EQ(got.records[2].line, 3);
  EXPECT_EQ(got.records[2].fields, (std::vector<std::string>{ "c", "d" }));
  EXPECT_FALSE(got.records[2].error);
}

TEST(CsvReaderTest, UnterminatedQuoteBeforeAHugeTailLosesNoLaterLine)
{
  std::string text = "id,\"stray\n";
  for (int i = 0; i < 20000; ++i) {
    text += "e" + std::to_string(i) + ",1\n";
  }
  const ReadResult got = read_all(text);
  ASSERT_EQ(got.records.size(), 20001u);
  EXPECT_EQ(got.records[0].error, CsvError::unterminated_quote);
  EXPECT_EQ(got.records[0].raw, "id,\"stray");
  EXPECT_EQ(got.records[20000].line, 20001);
  EXPECT_EQ(got.records[20000].raw, "e19999,1");
  for (std::size_t i = 1; i < got.records.size(); ++i) {
    ASSERT_FALSE(got.records[i].error) << i;
  }
}

TEST(CsvReaderTest, RecordsAcrossBlockBoundariesKeepContentAndLineNumbers)
{
  // Enough varied records to cross several 1 MiB read blocks at every kind of
  // byte: inside quotes, between CR and LF, inside an escaped quote.
  std::string text;
  std::vector<Expected> want;
  long long line = 1;
  for (int i = 0; i < 120000; ++i) {
    const std::string id = "e" + std::to_string(i);
    switch (i % 4) {
      case 0:
        text += id + ",plain,12\n";
        want.push_back({ line, id + ",plain,12", { id, "plain", "12" }, {} });
        line += 1;
        break;
      case 1:
        text += id + ",\"q,\"\"x\"\"\",7\r\n";
        want.push_back({ line, id + ",\"q,\"\"x\"\"\",7", { id, "q,\"x\"", "7" }, {} });
        line += 1;
        break;
      case 2:
        text += id + ",\"two\r\nlines\",\r\n";
        want.push_back({ line, id + ",\"two\r\nlines\",", { id, "two\r\nlines", "" }, {} });
        line += 2;
        break;
      default:
        text += "\n";
        line += 1;
        text += id + std::string(i % 97, 'y') + "\n";
        want.push_back(
          { line, id + std::string(i % 97, 'y'), { id + std::string(i % 97, 'y') }, {} });
        line += 1;
        break;
    }
  }
  const ReadResult got = read_all(text);
  expect_records(got, want);
  EXPECT_EQ(got.lines_read, line - 1);
  EXPECT_EQ(got.blank_lines, 30000);
}

TEST(CsvReaderTest, ReusedRecordShrinksItsFields)
{
  std::istringstream in("a,b,c\nd\n");
  CsvReader reader(in);
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.fields.size(), 3u);
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.fields, (std::vector<std::string>{ "d" }));
  EXPECT_FALSE(reader.next(record));
  EXPECT_FALSE(reader.next(record));
}

TEST(CsvErrorTest, NamesAreSnakeCase)
{
  EXPECT_EQ(to_string(CsvError::line_too_long), "line_too_long");
  EXPECT_EQ(to_string(CsvError::unterminated_quote), "unterminated_quote");
  EXPECT_EQ(to_string(CsvError::bad_quote), "bad_quote");
}

TEST(Utf8Test, AcceptsWellFormedText)
{
  const std::string good[] = {
    "",
    "plain ascii, longer than eight bytes",
    "\xC2\x80",         // U+0080, smallest 2-byte
    "\xDF\xBF",         // U+07FF
    "\xE0\xA0\x80",     // U+0800, smallest 3-byte
    "\xED\x9F\xBF",     // U+D7FF, just below the surrogates
    "\xEE\x80\x80",     // U+E000, just above them
    "\xEF\xBF\xBF",     // U+FFFF
    "\xF0\x90\x80\x80", // U+10000, smallest 4-byte
    "\xF4\x8F\xBF\xBF", // U+10FFFF, the largest
    "caf\xC3\xA9 12345678 \xE2\x82\xAC",
  };
  for (const std::string& text : good) {
    EXPECT_TRUE(is_valid_utf8(text)) << testing::PrintToString(text);
  }
}

TEST(Utf8Test, RejectsMalformedText)
{
  const std::string bad[] = {
    "\x80",             // lone continuation byte
    "abcdefgh\xBF",     // continuation after an ASCII run
    "\xC0\xAF",         // overlong '/'
    "\xC1\xBF",         // overlong
    "\xE0\x80\xAF",     // overlong 3-byte
    "\xE0\x9F\xBF",     // overlong 3-byte, top of the range
    "\xF0\x80\x80\xAF", // overlong 4-byte
    "\xF0\x8F\xBF\xBF", // overlong 4-byte, top of the range
    "\xED\xA0\x80",     // U+D800, a surrogate
    "\xED\xBF\xBF",     // U+DFFF, a surrogate
    "\xF4\x90\x80\x80", // U+110000
    "\xF5\x80\x80\x80", // lead byte beyond U+10FFFF
    "\xFF",             // never valid
    "\xC3",             // truncated 2-byte
    "\xE2\x82",         // truncated 3-byte
    "\xF0\x9F\x98",     // truncated 4-byte
    "\xE2\x28\xA1",     // bad continuation
  };
  for (const std::string& text : bad) {
    EXPECT_FALSE(is_valid_utf8(text)) << testing::PrintToString(text);
  }
}

TEST(CsvHeaderTest, MapsKnownColumnsInAnyOrder)
{
  static constexpr std::string_view k_required[] = { "id", "name" };
  static constexpr std::string_view k_optional[] = { "note" };
  CsvRecord header;
  header.raw = "extra, name ,id";
  split_csv_record(header.raw, header.fields);
  const auto mapped = CsvHeader::from_record(header, k_required, k_optional);
  ASSERT_TRUE(std::holds_alternative<CsvHeader>(mapped)) << std::get<std::string>(mapped);
  const auto& columns = std::get<CsvHeader>(mapped);
  EXPECT_EQ(columns.column_count(), 3u);
  EXPECT_EQ(columns.index_of("id"), 2u);
  EXPECT_EQ(columns.index_of("name"), 1u);
  EXPECT_EQ(columns.index_of("note"), std::nullopt);
  EXPECT_EQ(columns.index_of("extra"), std::nullopt);
}

TEST(CsvHeaderTest, RejectsMissingDuplicatedOrBrokenHeaders)
{
  static constexpr std::string_view k_required[] = { "id", "name" };
  static constexpr std::string_view k_optional[] = { "note" };
  const std::string bad[] = { "id", "id,name,id", "id,name,note,note", "ID,name", "id,\"name\"x" };
  for (const std::string& text : bad) {
    SCOPED_TRACE(text);
    CsvRecord header;
    header.raw = text;
    header.error = split_csv_record(header.raw, header.fields);
    EXPECT_TRUE(
      std::holds_alternative<std::string>(CsvHeader::from_record(header, k_required, k_optional)));
  }
}

} // namespace
} // namespace billing
