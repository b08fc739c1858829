#include "storage/database.hpp"

#include "util/errors.hpp"

namespace billing {

namespace {

// Removes every occurrence of the secret from a message.
std::string redact(std::string text, const std::optional<std::string>& secret)
{
  if (!secret || secret->empty()) {
    return text;
  }
  for (size_t pos = text.find(*secret); pos != std::string::npos; pos = text.find(*secret, pos)) {
    text.replace(pos, secret->size(), "***");
  }
  return text;
}

} // namespace

Database::Database(const DbUrl& url,
                   const std::optional<std::string>& password,
                   DbTimeouts timeouts)
  : m_url(url)
  , m_password(password)
  , m_timeouts(timeouts)
  , m_dialect(&dialect_of(url.backend))
{
  try {
    m_dialect->open(m_sql, url, password, timeouts);
  } catch (const soci::soci_error& e) {
    throw DatabaseUnavailable("cannot open database " + url.display() + ": "
                              + redact(e.get_error_message(), password));
  }
}

Database::~Database() = default;

std::unique_ptr<Database> Database::open_another() const
{
  return std::make_unique<Database>(m_url, m_password, m_timeouts);
}

std::unique_ptr<Database> Database::open_reader() const
{
  auto reader = open_another();
  m_dialect->configure_reader(reader->sql());
  return reader;
}

void Database::exec(const std::string& statement)
{
  m_sql << statement;
}

std::string Database::upsert_tail(const std::vector<std::string>& key_columns,
                                  const std::vector<std::string>& update_columns) const
{
  return m_dialect->upsert_tail(key_columns, update_columns);
}

std::string Database::insert_ignore() const
{
  return std::string(m_dialect->insert_ignore());
}

Transaction::Transaction(Database& db)
  : m_db(db)
{
  m_db.exec(std::string(m_db.dialect().begin_transaction()));
}

Transaction::~Transaction()
{
  if (m_open) {
    try {
      m_db.exec("ROLLBACK");
    } catch (...) {
      // The connection may be gone; the server rolls back on its own then.
    }
  }
}

void Transaction::commit()
{
  m_db.exec("COMMIT");
  m_open = false;
}

MultiRowInsert::MultiRowInsert(Database& db,
                               std::string head,
                               std::string tail,
                               size_t rows_max,
                               size_t bytes_max)
  : m_writer(
    db.dialect().bulk_writer(db.sql(), std::move(head), std::move(tail), rows_max, bytes_max))
{
}

MultiRowInsert::~MultiRowInsert() = default;

MultiRowInsert& MultiRowInsert::row()
{
  m_writer->row();
  return *this;
}

MultiRowInsert& MultiRowInsert::value(long long v)
{
  m_writer->value(v);
  return *this;
}

MultiRowInsert& MultiRowInsert::value(std::string_view text)
{
  m_writer->value(text);
  return *this;
}

MultiRowInsert& MultiRowInsert::value(const std::optional<long long>& v)
{
  return v ? value(*v) : null();
}

MultiRowInsert& MultiRowInsert::value(const std::optional<std::string>& v)
{
  return v ? value(std::string_view(*v)) : null();
}

MultiRowInsert& MultiRowInsert::null()
{
  m_writer->null();
  return *this;
}

void MultiRowInsert::flush()
{
  m_writer->flush();
}

size_t MultiRowInsert::rows_written() const
{
  return m_writer->rows_written();
}

long long MultiRowInsert::rows_affected() const
{
  return m_writer->rows_affected();
}

const std::vector<size_t>& MultiRowInsert::unchanged_rows() const
{
  return m_writer->unchanged_rows();
}

std::vector<std::string> leading_key_values(Database& db,
                                            std::string_view table,
                                            std::string_view column,
                                            std::string after,
                                            const std::optional<std::string>& upto)
{
  const std::string col(column);
  std::vector<std::string> values;
  std::string next;
  soci::indicator ind = soci::i_ok;
  const std::string last = upto.value_or("");
  soci::details::prepare_temp_type prepared =
    (db.sql().prepare << "SELECT " + col + " FROM " + std::string(table) + " WHERE " + col
                           + " > :after" + (upto ? " AND " + col + " <= :upto" : "") + " ORDER BY "
                           + col + " LIMIT 1");
  prepared, soci::into(next, ind), soci::use(after);
  if (upto) {
    prepared, soci::use(last);
  }
  soci::statement seek(prepared);
  for (;;) {
    seek.execute(true);
    if (!seek.got_data() || ind != soci::i_ok) {
      return values;
    }
    values.push_back(next);
    after = next;
  }
}

std::string placeholders(const Database& db, size_t n)
{
  return db.dialect().list_placeholders(n);
}

} // namespace billing
