#include "ops/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

using namespace billing;
namespace fs = std::filesystem;

namespace {

class AtomicFileTest : public ::testing::Test
{
protected:
  void SetUp() override
  {
    m_dir = fs::temp_directory_path()
            / ("atomic-file-test-" + std::to_string(::getpid()) + "-"
               + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  std::string path(const std::string& name) const { return (m_dir / name).string(); }
  static std::string read(const std::string& p)
  {
    std::ifstream in(p, std::ios::binary);
    return { std::istreambuf_iterator<char>(in), {} };
  }
  long long entries() const
  {
    return std::distance(fs::directory_iterator(m_dir), fs::directory_iterator{});
  }

  fs::path m_dir;
};

} // namespace

TEST_F(AtomicFileTest, StreamedContentReplacesTheFileWithItsMode)
{
  const std::string p = path("export.csv");
  write_file_atomically(p, std::string("old\n"));
  write_file_atomically(p, [](std::ostream& out) {
    for (int i = 0; i < 100000; ++i) {
      out << i << '\n';
    }
  });
  const std::string text = read(p);
  EXPECT_EQ(text.substr(0, 6), "0\n1\n2\n");
  EXPECT_EQ(text.size(), 588890u);
  struct stat st
  {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(entries(), 1);
}

TEST_F(AtomicFileTest, AWriterThatThrowsLeavesTheOldFileAndNoTemporary)
{
  const std::string p = path("export.csv");
  write_file_atomically(p, std::string("old\n"));
  EXPECT_THROW(write_file_atomically(p,
                                     [](std::ostream& out) {
                                       out << "half";
                                       throw std::runtime_error("database gone");
                                     }),
               std::runtime_error);
  EXPECT_EQ(read(p), "old\n");
  EXPECT_EQ(entries(), 1);
}

TEST_F(AtomicFileTest, AMissingFolderIsAnErrorNamingThePath)
{
  const std::string p = path("no-such-dir/export.csv");
  try {
    write_file_atomically(p, std::string("x"));
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(), 0);
}
