#include "storage/run_log.hpp"

namespace billing {

long long open_run(Database& db, const std::string& command, const std::string& holder, Instant now)
{
  Transaction tx(db);
  db.exec("UPDATE runs SET outcome = 'interrupted' WHERE outcome = 'running'");
  db.exec("INSERT INTO runs (command, holder, started_us, outcome) VALUES (" + sql_quote(command)
          + ", " + sql_quote(holder) + ", " + std::to_string(now.us) + ", 'running')");
  const long long id = query_ll(db, "SELECT MAX(run_id) FROM runs");
  tx.commit();
  return id;
}

void close_run(Database& db,
               long long run_id,
               const std::string& outcome,
               int exit_code,
               const std::string& detail,
               Instant now)
{
  db.exec("UPDATE runs SET finished_us = " + std::to_string(now.us) + ", outcome = "
          + sql_quote(outcome) + ", exit_code = " + std::to_string(exit_code) + ", detail = "
          + sql_quote(detail.substr(0, 1000)) + " WHERE run_id = " + std::to_string(run_id));
}

} // namespace billing
