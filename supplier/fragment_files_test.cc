#include "supplier/fragment_files.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace shardkeep::supplier {
namespace {

std::string Id(char c) { return std::string(kFileIdSize, c); }

class FragmentFilesTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    dir_ = std::string(tmp ? tmp : "/tmp") + "/ff-" + std::to_string(getpid()) +
           (GetParam() ? "-direct" : "-buffered");
    std::filesystem::remove_all(dir_);
    auto f = NewPosixFragmentFiles(dir_, GetParam());
    ASSERT_TRUE(f.ok()) << f.status();
    files_ = std::move(f).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<FragmentFiles> files_;
};

TEST_P(FragmentFilesTest, RoundTripsEverySizeAroundTheAlignment) {
  char c = 'A';
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{(1 << 20) - 1},
        size_t{1 << 20}, size_t{(1 << 20) + 3}, size_t{3 << 20 | 12345}}) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 131 + size);
    auto w = files_->Create(Id(c));
    ASSERT_TRUE(w.ok()) << w.status();
    // Odd-sized appends, as messages arrive.
    for (size_t off = 0; off < size; off += 77777) {
      ASSERT_TRUE((*w)->Append(std::string_view(data).substr(off, 77777)).ok());
    }
    ASSERT_TRUE((*w)->Commit().ok());
    auto r = files_->Open(Id(c));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->size(), size);
    std::string back;
    ASSERT_TRUE((*r)->ReadAt(0, size + 10, &back).ok());
    EXPECT_TRUE(back == data) << "size " << size;
    ASSERT_TRUE((*r)->ReadAt(size / 2, 5, &back).ok());
    EXPECT_EQ(back, data.substr(size / 2, 5));
    ++c;
  }
  auto ids = files_->List();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 9u);
}

TEST_P(FragmentFilesTest, UncommittedWritersLeaveNothingAndRemoveWorks) {
  {
    auto w = files_->Create(Id('x'));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(std::string(100000, 'x')).ok());
  }
  EXPECT_TRUE(absl::IsNotFound(files_->Open(Id('x')).status()));
  EXPECT_EQ(files_->List()->size(), 0u);
  EXPECT_EQ(*files_->RemoveTemporaries(), 0);
  auto w = files_->Create(Id('y'));
  ASSERT_TRUE((*w)->Append("y").ok());
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_TRUE(files_->Remove(Id('y')).ok());
  EXPECT_TRUE(absl::IsNotFound(files_->Remove(Id('y'))));
  EXPECT_TRUE(absl::IsNotFound(files_->Open(Id('y')).status()));
}

INSTANTIATE_TEST_SUITE_P(DirectAndBuffered, FragmentFilesTest, ::testing::Bool());

}  // namespace
}  // namespace shardkeep::supplier
