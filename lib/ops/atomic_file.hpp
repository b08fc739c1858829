// Writing a file so that readers see the old content or the new, never half:
// write a temporary file beside it, fsync, rename over. Mode 0640 by default
// (exports and metrics are not world-readable).
#pragma once

#include <sys/types.h>

#include <sstream>
#include <string>

namespace billing {

// Replaces `path` with `content` atomically. Throws std::runtime_error
// naming the path when it cannot.
void write_file_atomically(const std::string& path, const std::string& content, mode_t mode = 0640);

} // namespace billing
