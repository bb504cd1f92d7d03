// A FragmentFiles wrapper that fails on command, for tests of the store's
// error paths against the real file implementation (LevelDB's
// fault_injection_test in spirit). All knobs are thread-safe.
#ifndef SHARDKEEP_SUPPLIER_FAULT_INJECTION_H_
#define SHARDKEEP_SUPPLIER_FAULT_INJECTION_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "supplier/fragment_files.h"

namespace shardkeep::supplier {

class FaultInjectingFragmentFiles : public FragmentFiles {
 public:
  explicit FaultInjectingFragmentFiles(std::unique_ptr<FragmentFiles> base)
      : base_(std::move(base)) {}

  // Appends fail (Internal, "injected") once a writer has taken this many
  // bytes in total; -1 disables.
  void FailAppendsAfter(int64_t bytes) { fail_append_after_ = bytes; }
  // The next n Commit calls fail before anything is made durable.
  void FailCommitsBefore(int n) { fail_commits_before_ = n; }
  // The next n Commit calls make the file durable under its final name and
  // then report failure (as if fsync of the directory failed).
  void FailCommitsAfter(int n) { fail_commits_after_ = n; }
  // Create fails with ResourceExhausted (a full disk) while set.
  void FailCreates(bool on) { fail_creates_ = on; }
  // Remove fails while set (the file stays).
  void FailRemoves(bool on) { fail_removes_ = on; }

  int creates() const { return creates_; }
  int commits() const { return commits_; }

  absl::StatusOr<std::unique_ptr<FragmentFileWriter>> Create(std::string_view file_id) override;
  absl::StatusOr<std::unique_ptr<FragmentFileReader>> Open(std::string_view file_id) override {
    return base_->Open(file_id);
  }
  absl::Status Remove(std::string_view file_id) override {
    if (fail_removes_) return absl::InternalError("injected remove failure");
    return base_->Remove(file_id);
  }
  absl::StatusOr<std::vector<std::string>> List() override { return base_->List(); }
  absl::StatusOr<int> RemoveTemporaries() override { return base_->RemoveTemporaries(); }
  absl::Status Quarantine(std::string_view file_id) override { return base_->Quarantine(file_id); }

 private:
  friend class FaultInjectingWriter;
  std::unique_ptr<FragmentFiles> base_;
  std::atomic<int64_t> fail_append_after_{-1};
  std::atomic<int> fail_commits_before_{0}, fail_commits_after_{0};
  std::atomic<bool> fail_creates_{false}, fail_removes_{false};
  std::atomic<int> creates_{0}, commits_{0};
};

}  // namespace shardkeep::supplier

#endif  // SHARDKEEP_SUPPLIER_FAULT_INJECTION_H_
