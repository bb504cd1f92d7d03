// Disk full, end to end (issue 11): a real supplier whose data dir is on a
// small file system of its own (a 64 MiB ext4 image, loop-mounted; tmpfs if
// loop devices are not available) that something else fills up. Puts are
// refused with RESOURCE_EXHAUSTED naming the disk, nothing half-stored is
// left (no temporary file, no index record, usage unchanged), the daemon
// keeps serving reads and listings, and once space is freed writes resume.
//
// Needs root (mount). Skipped, saying why, when no small file system can be
// mounted.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;

int Sh(const std::string& cmd) { return std::system(cmd.c_str()); }

uint64_t FreeBytes(const std::string& dir) {
  struct statvfs vfs;
  if (statvfs(dir.c_str(), &vfs) != 0) return 0;
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

// A small file system mounted on a new directory; unmounted (and its image
// removed) at destruction.
class SmallFileSystem {
 public:
  // Empty mount_point() and a reason in why() if nothing could be mounted.
  explicit SmallFileSystem(uint64_t bytes) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string base = std::string(tmp ? tmp : "/tmp") + "/diskfull-XXXXXX";
    if (mkdtemp(base.data()) == nullptr) {
      why_ = "mkdtemp failed";
      return;
    }
    base_ = base;
    const std::string mnt = base + "/mnt";
    mkdir(mnt.c_str(), 0755);
    if (geteuid() != 0) {
      why_ = "not root: cannot mount a small file system";
      return;
    }
    image_ = base + "/disk.img";
    const std::string mk = "truncate -s " + std::to_string(bytes) + " " + image_ +
                           " && mkfs.ext4 -q -F -m 0 " + image_ + " >/dev/null 2>&1 && mount -o loop " +
                           image_ + " " + mnt + " 2>/dev/null";
    if (Sh(mk) == 0) {
      kind_ = "ext4 on a loop device";
    } else if (mount("tmpfs", mnt.c_str(), "tmpfs", 0,
                     ("size=" + std::to_string(bytes)).c_str()) == 0) {
      kind_ = "tmpfs";
    } else {
      why_ = "neither a loop-mounted ext4 image nor a tmpfs could be mounted (" +
             std::string(std::strerror(errno)) + ")";
      return;
    }
    mount_point_ = mnt;
  }
  ~SmallFileSystem() {
    if (!mount_point_.empty()) umount2(mount_point_.c_str(), MNT_DETACH);
    if (!base_.empty()) Sh("rm -rf '" + base_ + "'");
  }
  const std::string& mount_point() const { return mount_point_; }
  const std::string& why() const { return why_; }
  const std::string& kind() const { return kind_; }

 private:
  std::string base_, image_, mount_point_, why_, kind_;
};

// Fills the file system with `path` until at most `leave` bytes are free.
void Fill(const std::string& path, const std::string& dir, uint64_t leave) {
  const uint64_t free = FreeBytes(dir);
  if (free <= leave) return;
  const uint64_t mib = (free - leave) / kMiB;
  Sh("dd if=/dev/zero of='" + path + "' bs=1M count=" + std::to_string(mib) +
     " status=none 2>/dev/null; sync");
  // The last partial MiB, byte by byte in larger steps, until the disk refuses.
  Sh("dd if=/dev/zero of='" + path + ".tail' bs=4k status=none 2>/dev/null; sync");
}

TEST(DiskFull, PutsRefusedNamingTheDiskReadsServedWritesResumeWhenFreed) {
  SmallFileSystem fs(64 * kMiB);
  if (fs.mount_point().empty()) GTEST_SKIP() << "disk-full test skipped: " << fs.why();
  std::cerr << "data dir on " << fs.kind() << " of 64 MiB at " << fs.mount_point() << "\n";

  SupplierClusterOptions o;
  o.base_dir = fs.mount_point();
  o.capacity_bytes = 60 * kMiB;
  // No grant reserve (the whole disk is small); usage in exact bytes; puts
  // refused below 8 MiB free (default 64 MiB); tmpfs has no O_DIRECT.
  o.extra_flags = {"--disk-reserve=0", "--min-item-charge=0", "--min-free-disk=8MiB"};
  if (fs.kind() == "tmpfs") o.extra_flags.push_back("--nodirect_io");
  auto cluster = StartCluster(1, o);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  auto contract = a->RequestContract(28 * kMiB);
  ASSERT_TRUE(contract.ok()) << contract.status() << " (free: " << FreeBytes(fs.mount_point())
                             << ")\n" << cluster->LogTail(0);
  const std::string kept = RandomData(2 * kMiB, 1);
  ASSERT_TRUE(a->PutFragment("kept", kept).ok());
  ASSERT_TRUE(a->PutObject("snapshots/kept", "object").ok());

  // Someone else fills the disk: the quota allows the put, the disk does not.
  // (Objects go to RocksDB, which must never meet ENOSPC itself: 7.8 aborts
  // the process on the write after a failed WAL write. The daemon refuses
  // puts that would leave less than --min-free-disk.)
  const std::string filler = fs.mount_point() + "/filler";
  Fill(filler, fs.mount_point(), 256 << 10);
  ASSERT_LT(FreeBytes(fs.mount_point()), 1 * kMiB);
  auto before = a->GetContract();
  ASSERT_TRUE(before.ok()) << before.status();
  const int files_before = FragmentFilesOnDisk(*cluster, 0);

  auto full = a->PutFragment("big", RandomData(4 * kMiB, 2));
  ASSERT_FALSE(full.ok());
  std::cerr << "fragment refused: " << full.status() << "\n";
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted) << full.status();
  // Names the disk: that it is full (not the quota), and where.
  EXPECT_THAT(std::string(full.status().message()), HasSubstr("disk full: "));
  EXPECT_THAT(std::string(full.status().message()), HasSubstr(cluster->DataDir(0)));
  EXPECT_THAT(std::string(full.status().message()), HasSubstr("free on its file system"));

  // An object (RocksDB) is refused the same way; the daemon stays up.
  const std::string obj_data = RandomData(900 << 10, 3);
  auto obj_full = a->PutObject("snapshots/full", obj_data);
  ASSERT_FALSE(obj_full.ok());
  EXPECT_EQ(obj_full.status().code(), absl::StatusCode::kResourceExhausted) << obj_full.status();
  EXPECT_THAT(std::string(obj_full.status().message()), HasSubstr("disk full: "));
  EXPECT_THAT(std::string(obj_full.status().message()), HasSubstr(cluster->DataDir(0)));

  // Nothing half-stored: no file left behind, no record, usage unchanged.
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), files_before);
  auto after = a->GetContract();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->fragments(), before->fragments());
  EXPECT_EQ(after->objects(), before->objects());
  EXPECT_EQ(after->used_bytes(), before->used_bytes());
  auto listed = a->ListFragments("");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->fragments_size(), 1);
  EXPECT_EQ(listed->fragments(0).key(), "kept");

  // Reads go on while the disk is full.
  auto read = a->GetFragment("kept");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == kept);
  auto obj = a->GetObject("snapshots/kept");
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ(*obj, "object");
  EXPECT_TRUE(cluster->IsRunning(0)) << cluster->LogTail(0);

  // Space freed: writes resume, with no restart.
  ASSERT_EQ(Sh("rm -f '" + filler + "' '" + filler + ".tail'; sync"), 0);
  const std::string big = RandomData(4 * kMiB, 2);
  auto put = a->PutFragment("big", big);
  ASSERT_TRUE(put.ok()) << put.status();
  auto back = a->GetFragment("big");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == big);
  auto obj_put = a->PutObject("snapshots/after", obj_data);
  ASSERT_TRUE(obj_put.ok()) << obj_put.status();
  auto fin = a->GetContract();
  ASSERT_TRUE(fin.ok());
  EXPECT_EQ(fin->fragments(), 2u);
}

}  // namespace
}  // namespace shardkeep::testing
