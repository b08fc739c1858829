// The payment provider of the demo: it answers the pending payment requests
// the way a real one would send its results file (SPEC section 7), declining
// one card in ten, so the demo shows failed payments and their revocations.
// Deterministic: the answer is a function of the keys and their order alone.
#pragma once

#include <string>
#include <vector>

namespace billing {

// A payment results file (header
// idempotency_key,status,provider_ref,failure_reason): every key succeeds,
// but every tenth, which fails as card_declined.
std::string simulated_payment_results(const std::vector<std::string>& pending_keys);

} // namespace billing
