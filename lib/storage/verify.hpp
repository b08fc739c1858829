// `billing verify`: checks the invariants of SPEC section 11 over the whole
// database with set-based queries, and lists every breach found (up to a
// limit per check).
#pragma once

#include "storage/database.hpp"

#include <string>
#include <vector>

namespace billing {

struct VerifyReport
{
  std::vector<std::string> checks_passed;
  std::vector<std::string> breaches; // one line each
};

VerifyReport verify_books(Database& db);

} // namespace billing
