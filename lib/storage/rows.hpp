// Column readers for soci::row that accept whatever integer/decimal/text type
// a backend reports (SUM() is DECIMAL on MySQL, INTEGER on SQLite). SOCI reads
// DECIMAL as double, so no DECIMAL column exists and sums go through as_ll().
#pragma once

#include <soci/soci.h>

#include <cstddef>
#include <optional>
#include <string>

namespace billing {

long long as_ll(const soci::row& r, std::size_t i);
std::optional<long long> as_opt_ll(const soci::row& r, std::size_t i);
std::string as_str(const soci::row& r, std::size_t i);
std::optional<std::string> as_opt_str(const soci::row& r, std::size_t i);

} // namespace billing
