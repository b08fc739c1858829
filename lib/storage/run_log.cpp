#include "storage/run_log.hpp"

namespace billing {

long long open_run(Database& db, const std::string& command, const std::string& holder, Instant now)
{
  Transaction tx(db);
  db.exec("UPDATE runs SET outcome = 'interrupted' WHERE outcome = 'running'");
  db.sql() << "INSERT INTO runs (command, holder, started_us, outcome) VALUES (:command, :holder, "
              ":now_us, 'running')",
    soci::use(command), soci::use(holder), soci::use(now.us);
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
  const std::string detail_kept = detail.substr(0, 1000);
  db.sql() << "UPDATE runs SET finished_us = :now_us, outcome = :outcome, exit_code = :exit_code, "
              "detail = :detail WHERE run_id = :run_id",
    soci::use(now.us), soci::use(outcome), soci::use(exit_code), soci::use(detail_kept),
    soci::use(run_id);
}

} // namespace billing
