// report: the close pack of a range of business dates as one HTML page
// (reports/report_html.hpp, docs/finance.md).
#include "cli/command_support.hpp"
#include "domain/calendar.hpp"
#include "ops/atomic_file.hpp"
#include "reports/report_html.hpp"
#include "storage/report_store.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace billing {

namespace {

// A page holds every date's row and chart bars: three years at most.
constexpr int k_report_days_max = 1096;

// The -o path: a file name whose folder exists (the page is written beside
// it, then renamed over it).
std::string output_path(const po::variables_map& vm)
{
  if (!vm.count("output")) {
    throw UsageError("report: -o FILE.html is required");
  }
  const std::string path = vm["output"].as<std::string>();
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty() || path.back() == '/' || fs::is_directory(path, ec)) {
    throw UsageError("report: -o must name a file, not '" + path + "'");
  }
  const fs::path folder = fs::path(path).parent_path();
  if (!folder.empty() && !fs::is_directory(folder, ec)) {
    throw UsageError("report: -o " + path + ": no folder " + folder.string());
  }
  return path;
}

} // namespace

int cmd_report(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("from", po::value<std::string>(), "first business date (YYYY-MM-DD)")(
    "to", po::value<std::string>(), "last business date (YYYY-MM-DD)")(
    "output,o", po::value<std::string>(), "the HTML page to write (atomically, mode 0640)");
  const auto vm =
    parse_command(ctx, args, "billing report --from D1 --to D2 -o FILE.html", options);
  if (!vm) {
    return 0;
  }
  if (!vm->count("from") || !vm->count("to")) {
    throw UsageError("report: --from D1 and --to D2 are required");
  }
  const Date from = date_option(*vm, "from");
  const Date to = date_option(*vm, "to");
  if (to < from) {
    throw UsageError("report: --from " + format_date(from) + " is after --to " + format_date(to));
  }
  if (to.days - from.days + 1 > k_report_days_max) {
    throw UsageError("report: at most " + std::to_string(k_report_days_max)
                     + " dates in one page (three years); split the range");
  }
  const std::string path = output_path(*vm);
  auto db = ctx.open_database(SchemaCheck::require_current);
  const ReportBooks books = read_report_books(*db, from, to);
  write_file_atomically(path, report_html(books, from, to));
  if (books.closed_dates.empty()) {
    spdlog::warn("report: no closed business date from {} to {}; {} says so",
                 format_date(from),
                 format_date(to),
                 path);
  } else {
    spdlog::info("report: {} closed dates ({} to {}) written to {}",
                 books.closed_dates.size(),
                 books.closed_dates.front(),
                 books.closed_dates.back(),
                 path);
  }
  return 0;
}

} // namespace billing
