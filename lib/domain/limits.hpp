// The bounds of every value that comes from outside (SPEC sections 5, 7 and
// 9; docs/decisions.md, "Input"), in one place so that every reader checks
// the same numbers. A value beyond them is rejected (`out_of_range`), never
// clamped. The amounts are chosen so that no sum of a night's books can
// overflow 64 bits: a trillion credits or cents per import row, a billion
// platform credits per usage line.
#pragma once

#include <cstddef>

namespace billing {

// Usage lines (SPEC 5). chars: sms and mms length; duration_s: voice.
inline constexpr long long k_chars_max = 100'000;
inline constexpr long long k_duration_s_max = 86'400;
// What the platform can have debited for one message or call: generous, and
// far from overflowing a day's sum.
inline constexpr long long k_platform_credits_max = 1'000'000'000;

// Ids (event_id, plan_id, purchase_id): 1-64 characters of A-Za-z0-9._:-
inline constexpr std::size_t k_id_chars_max = 64;
inline constexpr std::size_t k_event_id_chars_max = k_id_chars_max;

// Credits and cents of one import row (plans, accounts, purchases): a
// trillion is far beyond any real plan or purchase.
inline constexpr long long k_amount_max = 1'000'000'000'000LL;
// A plan's name, in bytes (the column is VARCHAR(200)).
inline constexpr std::size_t k_plan_name_bytes_max = 200;
// An account's time zone name (SPEC 16), in bytes: the longest tzdata name
// is 32 ("America/Argentina/ComodRivadavia"); the column is VARCHAR(64).
inline constexpr std::size_t k_time_zone_name_max = 64;
// Recharges one account may get in one date.
inline constexpr long long k_max_recharges_per_day_max = 100;

// A rate card row (SPEC 18). Bounded so that one event costs at most
// 100,000 units x 10,000 credits = 10^9 credits, the bound of a usage
// line's platform_credits: chars (100,000) or seconds (86,400) at one per
// unit is the most units, and a larger min_units would charge no real event.
inline constexpr long long k_rate_unit_size_max = 100'000;
inline constexpr long long k_rate_min_units_max = 100'000;
inline constexpr long long k_rate_credits_per_unit_max = 10'000;
// A status name: 1-32 characters of A-Za-z0-9._:- (no ',' or ';': the
// stored lists are joined by ','); each stored list fits its VARCHAR(200).
inline constexpr std::size_t k_status_chars_max = 32;
inline constexpr std::size_t k_status_list_bytes_max = 200;

// An adjustment's reason (SPEC 15), in characters (UTF-8 code points): the
// column is VARCHAR(200) of utf8mb4, which counts characters.
inline constexpr std::size_t k_adjustment_reason_chars_max = 200;

// Payment results (SPEC 7), in bytes: the sizes of their columns.
inline constexpr std::size_t k_idempotency_key_bytes_max = 128;
inline constexpr std::size_t k_provider_ref_bytes_max = 200;
inline constexpr std::size_t k_failure_reason_bytes_max = 500;

} // namespace billing
