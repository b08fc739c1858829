#include "storage/rows.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace billing {

long long as_ll(const soci::row& r, std::size_t i)
{
  const auto v = as_opt_ll(r, i);
  return v ? *v : 0;
}

std::optional<long long> as_opt_ll(const soci::row& r, std::size_t i)
{
  if (r.get_indicator(i) == soci::i_null) {
    return std::nullopt;
  }
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return r.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double:
      return std::llround(r.get<double>(i));
    case soci::dt_string: {
      const std::string s = r.get<std::string>(i);
      long long v = 0;
      std::from_chars(s.data(), s.data() + s.size(), v);
      return v;
    }
    default:
      throw std::runtime_error("column " + std::to_string(i) + " is not a number");
  }
}

std::string as_str(const soci::row& r, std::size_t i)
{
  auto v = as_opt_str(r, i);
  return v ? *v : std::string();
}

std::optional<std::string> as_opt_str(const soci::row& r, std::size_t i)
{
  if (r.get_indicator(i) == soci::i_null) {
    return std::nullopt;
  }
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_string:
      return r.get<std::string>(i);
    case soci::dt_integer:
    case soci::dt_long_long:
    case soci::dt_unsigned_long_long:
    case soci::dt_double:
      return std::to_string(as_ll(r, i));
    default:
      throw std::runtime_error("column " + std::to_string(i) + " is not text");
  }
}

} // namespace billing
