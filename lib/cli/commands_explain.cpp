// explain: one account's closed date in words (SPEC 17), or as JSON.
#include "cli/command_support.hpp"
#include "domain/calendar.hpp"
#include "ops/time_zones.hpp"
#include "reports/explain.hpp"
#include "storage/explain_store.hpp"
#include "util/errors.hpp"
#include "util/text.hpp"

#include <spdlog/spdlog.h>

namespace billing {

namespace {

long long account_argument(const std::string& text)
{
  long long id = 0;
  if (parse_int64(text, id) != IntParse::ok || id <= 0) {
    throw UsageError("explain: ACCOUNT must be an account id (a positive whole number), not '"
                     + text + "'");
  }
  return id;
}

// The books cannot answer: exit 65, the question names what they do not hold.
[[noreturn]] void refuse(const ExplainRefusal& r, long long account, Date date)
{
  const std::string who = "account " + std::to_string(account);
  const std::string day = format_date(date);
  switch (r.reason) {
    case ExplainRefusalReason::unknown_account:
      throw InputError("explain: no " + who + " in the books");
    case ExplainRefusalReason::date_not_closed:
      throw InputError("explain: " + day
                       + " is not a closed business date (only a completed date has books "
                         "to explain; see billing status)");
    case ExplainRefusalReason::before_value_books:
      throw InputError("explain: " + day + " was closed before schema 6; the lot books start on "
                       + format_date(r.date->next()) + ", the day after " + format_date(*r.date));
    case ExplainRefusalReason::before_first_date:
      throw InputError("explain: " + who + " takes part from " + format_date(*r.date) + ", after "
                       + day);
  }
  throw InputError("explain: cannot explain " + who + " on " + day);
}

} // namespace

int cmd_explain(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("account", po::value<std::string>()->required(), "account id")(
    "date", po::value<std::string>()->required(), "a closed business date YYYY-MM-DD")(
    "json", "print one JSON object");
  po::positional_options_description positional;
  positional.add("account", 1);
  const auto vm =
    parse_command(ctx, args, "billing explain ACCOUNT --date D [--json]", options, positional);
  if (!vm) {
    return 0;
  }
  const long long account = account_argument((*vm)["account"].as<std::string>());
  const Date date = date_option(*vm, "date");
  auto db = ctx.open_database(SchemaCheck::require_current);
  auto read = read_explain_books(*db, account, date);
  if (const auto* refusal = std::get_if<ExplainRefusal>(&read)) {
    refuse(*refusal, account, date);
  }
  const ExplainBooks& books = std::get<ExplainBooks>(read);
  const auto zone = find_time_zone(books.time_zone);
  if (!zone) {
    throw BillingError(ExitCode::internal,
                       "explain: the system's tzdata does not know the account's time zone '"
                         + books.time_zone + "'");
  }
  const Explanation e = explain_account_date(books, *zone);
  *ctx.out << (vm->count("json") ? explain_json(e) : explain_text(e));
  if (!e.discrepancies.empty()) {
    for (const std::string& d : e.discrepancies) {
      spdlog::error("explain: account {} on {}: {}", account, format_date(date), d);
    }
    spdlog::error("explain: the stored books disagree with the ledger ({} discrepancies); "
                  "run billing verify and report it",
                  e.discrepancies.size());
    return static_cast<int>(ExitCode::internal);
  }
  return 0;
}

} // namespace billing
