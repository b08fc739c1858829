// How lots read in the books (SPEC 17): the name the lots export and
// `billing explain` give a lot, and the ledger's `took` column (the lots a
// usage or debit entry took its credits from).
#pragma once

#include "domain/engine.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billing {

// The lot's name by its source, stable on every re-run: "plan:<valid_from>",
// "rollover:<valid_from>" (instants as SPEC 2 writes them, also for lots
// stored as "plan:<k>" before schema 5), "purchase:<purchase_id>",
// "recharge:<idempotency_key>" (the payment request's key, itself
// "recharge:<account>:<date>:<i>"), "bonus:<adjustment_id>".
std::string lot_name(long long account_id,
                     LotKind kind,
                     std::string_view source,
                     Instant valid_from);

// "seq:credits seq:credits ..." in the order taken.
std::string format_lot_takes(const std::vector<LotTake>& took);
// The inverse; nullopt for text that is not of that form.
std::optional<std::vector<LotTake>> parse_lot_takes(std::string_view text);

} // namespace billing
