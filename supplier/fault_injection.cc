#include "supplier/fault_injection.h"

namespace shardkeep::supplier {

class FaultInjectingWriter : public FragmentFileWriter {
 public:
  FaultInjectingWriter(FaultInjectingFragmentFiles* owner, std::unique_ptr<FragmentFileWriter> base)
      : owner_(owner), base_(std::move(base)) {}

  absl::Status Append(std::string_view data) override {
    int64_t limit = owner_->fail_append_after_;
    if (limit >= 0 && written_ + static_cast<int64_t>(data.size()) > limit) {
      return absl::InternalError("injected write failure");
    }
    written_ += static_cast<int64_t>(data.size());
    return base_->Append(data);
  }

  absl::Status Commit() override {
    if (owner_->fail_commits_before_.fetch_sub(1) > 0) {
      return absl::InternalError("injected fdatasync failure");
    }
    owner_->fail_commits_before_ = 0;  // undo the decrement below zero
    absl::Status s = base_->Commit();
    if (!s.ok()) return s;
    if (owner_->fail_commits_after_.fetch_sub(1) > 0) {
      return absl::InternalError("injected directory fsync failure");
    }
    owner_->fail_commits_after_ = 0;
    ++owner_->commits_;
    return absl::OkStatus();
  }

 private:
  FaultInjectingFragmentFiles* const owner_;
  std::unique_ptr<FragmentFileWriter> base_;
  int64_t written_ = 0;
};

absl::StatusOr<std::unique_ptr<FragmentFileWriter>> FaultInjectingFragmentFiles::Create(
    std::string_view file_id) {
  if (fail_creates_) return absl::ResourceExhaustedError("injected: no space left on device");
  ASSIGN_OR_RETURN(std::unique_ptr<FragmentFileWriter> w, base_->Create(file_id));
  ++creates_;
  return std::unique_ptr<FragmentFileWriter>(new FaultInjectingWriter(this, std::move(w)));
}

}  // namespace shardkeep::supplier
