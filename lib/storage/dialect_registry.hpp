// The dialects' own header: each dialect file defines its object here, and
// dialect.cpp picks among them. Nothing outside lib/storage includes it.
#pragma once

#include "storage/dialect.hpp"

#include <string>
#include <string_view>

namespace billing {

const Dialect& sqlite_dialect();
const Dialect& mysql_dialect();

// A MySQL text literal of any bytes: _utf8mb4 X'<hex>' ('' when empty). The
// one encoding of values that MySQL upserts carry in their text.
std::string mysql_literal(std::string_view text);

} // namespace billing
