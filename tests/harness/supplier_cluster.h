// SupplierCluster: n real shardkeep-supplier processes on 127.0.0.1 for
// tests and benchmarks (Tahoe-LAFS's no_network grid, but with real processes,
// real RocksDB and real gRPC). Each supplier gets its own directory under the
// cluster's base dir:
//   supplier-<i>/data          --data-dir
//   supplier-<i>/port          --port-file
//   supplier-<i>/clock-offset  --test-clock-offset-file (SetClockOffsetMs)
//   supplier-<i>.log           its stderr/stdout, appended across restarts
//
//   auto cluster = SupplierCluster::Start(4, {.capacity_bytes = 1 << 30});
//   ASSERT_TRUE(cluster.ok());
//   std::string addrs = (*cluster)->AddressList();   // "127.0.0.1:p1,127.0.0.1:p2,..."
//   (*cluster)->Kill(2);      // SIGKILL, as a crash
//   (*cluster)->Restart(2);   // same data dir, same port
//
// The binary is $SHARDKEEP_SUPPLIER_BIN, else the runfiles path
// supplier/shardkeep-supplier: declare data = ["//supplier:shardkeep-supplier"]
// in the test (or benchmark) that uses the harness.
//
// Children get SIGKILL if the thread that started them exits
// (PR_SET_PDEATHSIG), so a crashed test leaves no daemons behind: start the
// cluster from a thread that outlives it (normally the test's main thread).
// Linking the harness sets GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS=50 in
// the test process (unless set): gRPC clients then notice a supplier's
// shutdown at once, and Stop/Restart take milliseconds instead of ~5 s.
// Not thread-safe: drive one cluster from one thread.
#ifndef SHARDKEEP_TESTS_HARNESS_SUPPLIER_CLUSTER_H_
#define SHARDKEEP_TESTS_HARNESS_SUPPLIER_CLUSTER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardkeep::testing {

struct SupplierClusterOptions {
  // --capacity of every supplier.
  uint64_t capacity_bytes = 1ULL << 30;
  // Appended to every supplier's command line, e.g. {"--lease=10s", "--grace=5s"}.
  std::vector<std::string> extra_flags;
  // Where the suppliers' directories go. Empty: a new directory under
  // $TEST_TMPDIR (or /tmp), removed by the destructor unless keep_dirs or
  // $SHARDKEEP_KEEP_TEST_DIRS is set.
  std::string base_dir;
  bool keep_dirs = false;
  // The daemon binary. Empty: FindSupplierBinary().
  std::string binary;
  // How long a supplier may take to start listening.
  int start_timeout_ms = 30000;
};

class SupplierCluster {
 public:
  // Starts n suppliers and waits until each listens. On error, whatever was
  // started is stopped again and the message quotes the failing log.
  static absl::StatusOr<std::unique_ptr<SupplierCluster>> Start(
      int n, SupplierClusterOptions options = {});
  // The supplier binary: $SHARDKEEP_SUPPLIER_BIN, else supplier/shardkeep-supplier
  // in this program's runfiles, else beside it in bazel-bin.
  static absl::StatusOr<std::string> FindSupplierBinary();

  // Stops every supplier (SIGTERM, then SIGKILL after 10 s) and removes the
  // base dir if it created it.
  ~SupplierCluster();
  SupplierCluster(const SupplierCluster&) = delete;
  SupplierCluster& operator=(const SupplierCluster&) = delete;

  int size() const { return static_cast<int>(suppliers_.size()); }
  // "127.0.0.1:<port>" of each supplier (also of stopped ones: their last port).
  std::vector<std::string> Addresses() const;
  std::string Address(int i) const;
  // Addresses() joined with commas: what `shardkeep init --suppliers` takes.
  std::string AddressList() const;
  int Port(int i) const;
  // 0 when not running.
  pid_t Pid(int i) const;
  bool IsRunning(int i) const;
  std::string DataDir(int i) const;
  std::string LogPath(int i) const;
  // The last `bytes` of the supplier's log, for failure messages.
  std::string LogTail(int i, size_t bytes = 4000) const;
  const std::string& base_dir() const { return base_dir_; }

  // SIGKILL (a crash: nothing is flushed) and reap. OK if already stopped.
  absl::Status Kill(int i);
  // SIGTERM (clean shutdown) and wait; Internal if it did not exit with 0
  // within 30 s (it is then killed).
  absl::Status Stop(int i);
  // Stops it if running, then starts it again on the same data dir and, if
  // possible, the same port (retried for 5 s; then a new port: Address(i)
  // changes). extra_flags replace the cluster's for this start if non-empty.
  absl::Status Restart(int i, std::vector<std::string> extra_flags = {});
  // SIGSTOP / SIGCONT: a supplier that hangs (connections stay open, nothing answers).
  absl::Status Pause(int i);
  absl::Status Resume(int i);
  // Kills the supplier and deletes its data dir: a supplier that lost its
  // disk. It stays stopped; Restart(i) brings it back empty (with a new
  // supplier ID).
  absl::Status Wipe(int i);

  // Test clock: supplier i's clock runs offset_ms ahead of real time (read by
  // the daemon at every clock read, no restart needed).
  absl::Status SetClockOffsetMs(int i, int64_t offset_ms);
  int64_t ClockOffsetMs(int i) const;
  // Moves every supplier's clock forward by ms.
  absl::Status AdvanceClocksMs(int64_t ms);

 private:
  struct Supplier {
    std::string dir;
    int port = 0;
    pid_t pid = 0;
    bool paused = false;
    int64_t clock_offset_ms = 0;
  };
  SupplierCluster() = default;
  absl::Status Launch(int i, const std::vector<std::string>& extra_flags);
  // Waits for the pid to exit; returns its wait status or -1 on timeout.
  int WaitExit(int i, int timeout_ms);

  SupplierClusterOptions options_;
  std::string base_dir_;
  bool owns_base_dir_ = false;
  std::vector<Supplier> suppliers_;
};

}  // namespace shardkeep::testing

#endif  // SHARDKEEP_TESTS_HARNESS_SUPPLIER_CLUSTER_H_
