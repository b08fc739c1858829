#include "storage/lot_text.hpp"

#include "domain/calendar.hpp"

#include <charconv>

namespace billing {

std::string lot_name(long long account_id,
                     LotKind kind,
                     std::string_view source,
                     Instant valid_from)
{
  switch (kind) {
    case LotKind::plan:
      return "plan:" + format_instant(valid_from);
    case LotKind::rollover:
      return "rollover:" + format_instant(valid_from);
    case LotKind::bonus:
      return std::string(source);
    case LotKind::purchased:
      break;
  }
  // A recharge lot's source is "recharge:<date>:<i>"; its payment request's
  // key is "recharge:<account>:<date>:<i>".
  constexpr std::string_view recharge = "recharge:";
  if (source.starts_with(recharge)) {
    return "recharge:recharge:" + std::to_string(account_id) + ":"
           + std::string(source.substr(recharge.size()));
  }
  return std::string(source);
}

std::string format_lot_takes(const std::vector<LotTake>& took)
{
  std::string text;
  for (const LotTake& t : took) {
    if (!text.empty()) {
      text += ' ';
    }
    text += std::to_string(t.lot_seq);
    text += ':';
    text += std::to_string(t.credits.n);
  }
  return text;
}

std::optional<std::vector<LotTake>> parse_lot_takes(std::string_view text)
{
  std::vector<LotTake> took;
  while (!text.empty()) {
    const size_t end = text.find(' ');
    const std::string_view item = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    LotTake t;
    const char* seq_end = item.data() + colon;
    const char* credits_end = item.data() + item.size();
    const auto a = std::from_chars(item.data(), seq_end, t.lot_seq);
    const auto b = std::from_chars(seq_end + 1, credits_end, t.credits.n);
    if (a.ec != std::errc{} || a.ptr != seq_end || b.ec != std::errc{} || b.ptr != credits_end) {
      return std::nullopt;
    }
    took.push_back(t);
  }
  return took;
}

} // namespace billing
