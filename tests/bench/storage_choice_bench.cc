// Measures the two ways docs/STORAGE.md weighs for keeping fragment bytes:
//   blobdb: the bytes as a RocksDB value in a column family with
//           enable_blob_files (values go through the WAL, then to blob files);
//   files:  the bytes in their own file (write, fdatasync, rename, fsync dir),
//           then a small synced RocksDB record pointing at it.
// Both acknowledge a fragment only once it is durable. Prints ingest MB/s and
// bytes written (wchar: bytes handed to write(); write_bytes: bytes the kernel
// sent to the block layer, from /proc/self/io) per byte stored.
//
//   bazel build -c opt //tests/bench:storage_choice_bench
//   bazel-bin/tests/bench/storage_choice_bench --dir=/tmp/sc --fragments=256 --threads=1
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gflags/gflags.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

DEFINE_string(dir, "/tmp/storage_choice_bench", "scratch directory (deleted and recreated)");
DEFINE_int32(fragments, 256, "fragments to store per method");
DEFINE_int32(fragment_kib, 4096, "fragment size in KiB");
DEFINE_int32(threads, 1, "concurrent writers");
DEFINE_string(methods, "files,direct,blobdb", "comma-separated: files, direct, blobdb");

namespace {

struct IoCounters {
  uint64_t wchar = 0, write_bytes = 0;
};

IoCounters ReadIo() {
  std::ifstream in("/proc/self/io");
  IoCounters c;
  std::string key;
  uint64_t v;
  while (in >> key >> v) {
    if (key == "wchar:") c.wchar = v;
    if (key == "write_bytes:") c.write_bytes = v;
  }
  return c;
}

void Check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

void CheckErrno(bool ok, const char* what) {
  if (!ok) {
    std::perror(what);
    std::exit(1);
  }
}

rocksdb::DB* OpenDb(const std::string& path, bool blob, rocksdb::ColumnFamilyHandle** cf) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  rocksdb::ColumnFamilyOptions data_options;
  if (blob) {
    data_options.enable_blob_files = true;
    data_options.min_blob_size = 64 << 10;
    data_options.blob_file_size = 256 << 20;
    data_options.write_buffer_size = 64 << 20;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}, {"data", data_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  Check(rocksdb::DB::Open(rocksdb::DBOptions(options), path, cfs, &handles, &db), "open");
  delete handles[0];
  *cf = handles[1];
  return db;
}

void RunBlobDb(const std::string& dir, const std::vector<std::string>& payloads, int threads) {
  rocksdb::ColumnFamilyHandle* cf;
  rocksdb::DB* db = OpenDb(dir + "/db", true, &cf);
  IoCounters before = ReadIo();
  auto start = std::chrono::steady_clock::now();
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      for (int i; (i = next++) < FLAGS_fragments;) {
        rocksdb::WriteBatch batch;
        batch.Put(cf, "fragment-" + std::to_string(i), payloads[i % payloads.size()]);
        batch.Put("usage", std::to_string(i));
        Check(db->Write(wo, &batch), "write");
      }
    });
  }
  for (auto& w : workers) w.join();
  double ack_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rocksdb::FlushOptions fo;
  Check(db->Flush(fo, cf), "flush");
  double flush_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  IoCounters after = ReadIo();
  double stored = static_cast<double>(FLAGS_fragments) * FLAGS_fragment_kib * 1024;
  std::printf(
      "blobdb threads=%d: acked %.0f MB/s (%.0f MB/s incl. memtable flush), wchar %.2f x, "
      "write_bytes %.2f x stored\n",
      threads, stored / ack_s / 1e6, stored / flush_s / 1e6, (after.wchar - before.wchar) / stored,
      (after.write_bytes - before.write_bytes) / stored);
  delete cf;
  delete db;
}

void RunFiles(const std::string& dir, const std::vector<std::string>& payloads, int threads,
              bool direct) {
  rocksdb::ColumnFamilyHandle* cf;
  rocksdb::DB* db = OpenDb(dir + "/db", false, &cf);
  std::filesystem::create_directories(dir + "/fragments");
  int dirfd = open((dir + "/fragments").c_str(), O_RDONLY | O_DIRECTORY);
  CheckErrno(dirfd >= 0, "open dir");
  IoCounters before = ReadIo();
  auto start = std::chrono::steady_clock::now();
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      for (int i; (i = next++) < FLAGS_fragments;) {
        std::string name = dir + "/fragments/" + std::to_string(i);
        std::string tmp = name + ".tmp";
        int fd = open(tmp.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0600);
        CheckErrno(fd >= 0, "create");
        const std::string& p = payloads[i % payloads.size()];
        // As the supplier does: each 1 MiB message is copied into an aligned
        // buffer for O_DIRECT (sizes here are multiples of 4 KiB).
        static thread_local char* aligned = static_cast<char*>(std::aligned_alloc(4096, 1 << 20));
        for (size_t off = 0; off < p.size(); off += 1 << 20) {
          size_t n = std::min<size_t>(1 << 20, p.size() - off);
          const char* src = p.data() + off;
          if (direct) {
            std::memcpy(aligned, src, n);
            src = aligned;
          }
          CheckErrno(write(fd, src, n) == static_cast<ssize_t>(n), "write");
        }
        CheckErrno(fdatasync(fd) == 0, "fdatasync");
        close(fd);
        CheckErrno(rename(tmp.c_str(), name.c_str()) == 0, "rename");
        CheckErrno(fsync(dirfd) == 0, "fsync dir");
        rocksdb::WriteBatch batch;
        batch.Put(cf, "fragment-" + std::to_string(i), std::string(60, 'x'));
        batch.Put("usage", std::to_string(i));
        Check(db->Write(wo, &batch), "write");
      }
    });
  }
  for (auto& w : workers) w.join();
  double ack_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  IoCounters after = ReadIo();
  double stored = static_cast<double>(FLAGS_fragments) * FLAGS_fragment_kib * 1024;
  std::printf("files%s threads=%d: acked %.0f MB/s, wchar %.2f x, write_bytes %.2f x stored\n",
              direct ? "+O_DIRECT" : "", threads, stored / ack_s / 1e6,
              (after.wchar - before.wchar) / stored,
              (after.write_bytes - before.write_bytes) / stored);
  close(dirfd);
  delete cf;
  delete db;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::vector<std::string> payloads(8);
  std::mt19937_64 rng(42);
  for (auto& p : payloads) {
    p.resize(static_cast<size_t>(FLAGS_fragment_kib) * 1024);
    for (size_t i = 0; i + 8 <= p.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&p[i], &v, 8);
    }
  }
  for (std::string method : {"files", "direct", "blobdb"}) {
    if (FLAGS_methods.find(method) == std::string::npos) continue;
    std::filesystem::remove_all(FLAGS_dir);
    std::filesystem::create_directories(FLAGS_dir);
    if (method == "files") RunFiles(FLAGS_dir, payloads, FLAGS_threads, false);
    if (method == "direct") RunFiles(FLAGS_dir, payloads, FLAGS_threads, true);
    if (method == "blobdb") RunBlobDb(FLAGS_dir, payloads, FLAGS_threads);
  }
  std::filesystem::remove_all(FLAGS_dir);
  return 0;
}
