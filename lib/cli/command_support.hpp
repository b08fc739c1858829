// Shared plumbing of the subcommands: per-command option parsing with
// --help, and business-date arguments.
#pragma once

#include "cli/context.hpp"
#include "domain/types.hpp"

#include <boost/program_options.hpp>
#include <optional>
#include <string>

namespace billing {

namespace po = boost::program_options;

// Parses `args` against `options` (and positional names). Prints the usage
// and returns nullopt on --help. Throws UsageError on bad options.
std::optional<po::variables_map> parse_command(
  const CommandContext& ctx,
  const CommandArgs& args,
  const std::string& usage,
  po::options_description options,
  const po::positional_options_description& positional = {});

// A YYYY-MM-DD option value; throws UsageError naming the option.
Date date_option(const po::variables_map& vm, const std::string& name);

} // namespace billing
