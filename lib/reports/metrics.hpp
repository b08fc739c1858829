// The Prometheus textfile written after each run (SPEC section 12), for the
// node exporter's textfile collector. Every figure is read from the database,
// so counters survive restarts and a failed run still reports the last
// success. Written atomically (temp file, rename), mode 0640.
#pragma once

#include "storage/database.hpp"

#include <string>

namespace billing {

struct RunFigures
{
  double duration_s = 0;
  int exit_code = 0;
};

// The metrics text (exposition format 0.0.4).
std::string render_metrics(Database& db, const RunFigures& run);

// Renders and writes to `path` atomically.
void write_metrics_file(Database& db, const RunFigures& run, const std::string& path);

} // namespace billing
