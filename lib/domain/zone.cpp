#include "domain/zone.hpp"

#include "util/assert.hpp"

#include <date/tz.h>

#include <chrono>

namespace billing {

namespace {

constexpr long long k_rollover_lifetime_days = 30;

long long floor_div(long long a, long long b)
{
  const long long q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::chrono::seconds whole_seconds(long long us)
{
  return std::chrono::seconds{ floor_div(us, k_us_per_second) };
}

long long offset_us(std::chrono::seconds offset)
{
  return static_cast<long long>(offset.count()) * k_us_per_second;
}

} // namespace

Zone::Zone(const date::time_zone* tz)
  : m_tz(tz)
{
  BILLING_REQUIRE(tz != nullptr);
}

std::string_view Zone::name() const
{
  return m_tz ? std::string_view(m_tz->name()) : std::string_view("UTC");
}

Instant resolve_local(const Zone& zone, LocalTime t)
{
  if (zone.is_utc()) {
    return Instant{ t.us };
  }
  // Transitions fall on whole seconds, so the second that holds t decides.
  const date::local_info info = zone.tz()->get_info(date::local_seconds{ whole_seconds(t.us) });
  // `first` is the period before a gap or the earlier of two occurrences,
  // and a unique time's only one: the wall time read with its offset is the
  // time itself, the gap time moved later by the gap's length (it is read
  // with the offset before the jump), or the first occurrence.
  return Instant{ t.us - offset_us(info.first.offset) };
}

LocalTime local_time_of(const Zone& zone, Instant t)
{
  if (zone.is_utc()) {
    return LocalTime{ t.us };
  }
  const date::sys_info info = zone.tz()->get_info(date::sys_seconds{ whole_seconds(t.us) });
  return LocalTime{ t.us + offset_us(info.offset) };
}

Date local_date_of(const Zone& zone, Instant t)
{
  return date_of(Instant{ local_time_of(zone, t).us });
}

Instant local_midnight(const Zone& zone, Date d)
{
  return resolve_local(zone, local_start_of(d));
}

Instant add_months_local(const Zone& zone, Instant t, long long months)
{
  if (zone.is_utc()) {
    return add_months_clamped(t, months);
  }
  const Instant wall{ local_time_of(zone, t).us };
  return resolve_local(zone, LocalTime{ add_months_clamped(wall, months).us });
}

Instant cycle_start(Date anchor, Cycle cycle, long long k, const Zone& zone)
{
  if (zone.is_utc()) {
    return cycle_start(anchor, cycle, k);
  }
  BILLING_REQUIRE(k >= 0);
  const long long months = cycle == Cycle::monthly ? k : k * 12;
  return local_midnight(zone, add_months_clamped(anchor, months));
}

Instant rollover_expiry(const Zone& zone, Instant made_at)
{
  const Date local_date = local_date_of(zone, made_at);
  return local_midnight(zone, Date{ local_date.days + static_cast<int>(k_rollover_lifetime_days) });
}

Date first_business_date(Date anchor, const Zone& zone)
{
  return date_of(local_midnight(zone, anchor));
}

} // namespace billing
