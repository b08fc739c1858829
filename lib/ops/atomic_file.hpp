// Writing a file so that readers see the old content or the new, never half:
// write a temporary file beside it, fsync, rename over. Mode 0640 by default
// (exports and metrics are not world-readable); the temporary file has that
// mode from its creation.
#pragma once

#include <sys/types.h>

#include <functional>
#include <ostream>
#include <string>

namespace billing {

// Replaces `path` with what `write` streams into the file atomically, so an
// export of a year of books never sits in memory. Throws std::runtime_error
// naming the path when it cannot (the temporary file is removed); what
// `write` throws is passed on, after the temporary file is removed.
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write,
                           mode_t mode = 0640);

// Replaces `path` with `content` atomically.
void write_file_atomically(const std::string& path, const std::string& content, mode_t mode = 0640);

} // namespace billing
