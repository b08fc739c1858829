#include "cli/command_support.hpp"

#include "domain/calendar.hpp"
#include "util/errors.hpp"

namespace billing {

std::optional<po::variables_map> parse_command(const CommandContext& ctx,
                                               const CommandArgs& args,
                                               const std::string& usage,
                                               po::options_description options,
                                               const po::positional_options_description& positional)
{
  options.add_options()("help,h", "show this help");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    *ctx.out << "usage: " << usage << "\n\n" << options << "\n";
    return std::nullopt;
  }
  po::notify(vm);
  return vm;
}

Date date_option(const po::variables_map& vm, const std::string& name)
{
  const std::string text = vm[name].as<std::string>();
  const auto d = parse_date(text);
  if (!d) {
    throw UsageError("--" + name + " must be a date YYYY-MM-DD, not '" + text + "'");
  }
  return *d;
}

} // namespace billing
