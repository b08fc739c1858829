// Input files: an input must be a readable regular file (not a directory, a
// device or a missing path), else the command fails with exit 65 naming it.
#pragma once

#include "util/errors.hpp"

#include <sys/stat.h>

#include <string>

namespace billing {

// Throws InputError when `path` is not an existing regular file.
inline void require_regular_file(const std::string& path)
{
  struct stat st
  {};
  if (::stat(path.c_str(), &st) != 0) {
    throw InputError("cannot read " + path + ": no such file");
  }
  if (!S_ISREG(st.st_mode)) {
    throw InputError("cannot read " + path + ": not a regular file");
  }
}

} // namespace billing
