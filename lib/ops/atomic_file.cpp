#include "ops/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace billing {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& tmp, int err)
{
  ::unlink(tmp.c_str());
  throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
}

} // namespace

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write,
                           mode_t mode)
{
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  // Created with its mode first: the stream then truncates a file that was
  // never readable by others.
  const int created = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (created < 0) {
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
  if (::fchmod(created, mode) != 0 || ::close(created) != 0) {
    fail(path, tmp, errno);
  }
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      fail(path, tmp, errno != 0 ? errno : EIO);
    }
    try {
      write(out);
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
    out.flush();
    out.close();
    if (!out) {
      fail(path, tmp, errno != 0 ? errno : EIO);
    }
  }
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail(path, tmp, errno);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, tmp, err);
  }
  if (::close(fd) != 0) {
    fail(path, tmp, errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    fail(path, tmp, errno);
  }
}

void write_file_atomically(const std::string& path, const std::string& content, mode_t mode)
{
  write_file_atomically(
    path, [&content](std::ostream& out) { out << content; }, mode);
}

} // namespace billing
