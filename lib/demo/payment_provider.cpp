#include "demo/payment_provider.hpp"

namespace billing {

namespace {

constexpr long long k_failed_payment_every = 10;

} // namespace

std::string simulated_payment_results(const std::vector<std::string>& pending_keys)
{
  std::string out = "idempotency_key,status,provider_ref,failure_reason\n";
  long long n = 0;
  for (const std::string& key : pending_keys) {
    ++n;
    if (n % k_failed_payment_every == 0) {
      out += key + ",failed,,card_declined\n";
    } else {
      out += key + ",succeeded,ch_demo_" + std::to_string(n) + ",\n";
    }
  }
  return out;
}

} // namespace billing
