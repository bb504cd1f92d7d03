#include "customer/repo/quota_budget.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/error_kind.h"
#include "common/units.h"

namespace shardkeep::customer {
namespace {

// The supplier's --min-item-charge default and a fragment key's length
// ("f/" + 32 hex + "." + position, with room to spare).
constexpr uint64_t kMinItemCharge = 4096;
constexpr uint64_t kKeyBytes = 64;

}  // namespace

QuotaBudget::QuotaBudget(std::vector<Position> positions, uint64_t needed_bytes, int k)
    : positions_(std::move(positions)),
      charged_(positions_.size(), 0),
      needed_bytes_(needed_bytes),
      k_(std::max(1, k)) {}

QuotaBudget QuotaBudget::FromContracts(Repository& repo,
                                       const std::vector<absl::StatusOr<v1::Contract>>& contracts) {
  std::vector<Position> positions(repo.n());
  for (int i = 0; i < repo.n(); ++i) {
    positions[i].address = repo.suppliers().address(i);
    if (i < static_cast<int>(contracts.size()) && contracts[i].ok()) {
      positions[i].known = true;
      positions[i].quota_bytes = contracts[i]->quota_bytes();
      positions[i].used_bytes = contracts[i]->used_bytes();
    }
  }
  return QuotaBudget(std::move(positions), repo.config().needed_bytes(), repo.k());
}

uint64_t QuotaBudget::BlockCharge(uint64_t fragment_bytes, size_t chunks, int n) {
  // The block's record in an index piece: ~50 bytes a chunk, two hashes a
  // position, and the piece is an object stored whole at every supplier.
  const uint64_t index_share = 64 * chunks + 72 * static_cast<uint64_t>(n) + 128;
  return std::max(fragment_bytes, kMinItemCharge) + kKeyBytes + index_share;
}

absl::Status QuotaBudget::Charge(uint64_t fragment_bytes, size_t chunks, uint64_t skip_mask) {
  const uint64_t cost = BlockCharge(fragment_bytes, chunks, static_cast<int>(positions_.size()));
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < positions_.size(); ++i) {
    const Position& p = positions_[i];
    if (!p.known || (i < 64 && (skip_mask >> i & 1))) continue;
    // Quota and usage are the supplier's word: compared without sums that
    // a huge value could wrap (this backup's charges stay far below 2^63).
    const uint64_t room = p.quota_bytes > p.used_bytes ? p.quota_bytes - p.used_bytes : 0;
    if (charged_[i] + cost + kReserveBytes <= room) continue;
    // Twice the vault's size now (the larger of --needed and this quota
    // times k), bounded so that a supplier's absurd quota cannot wrap it.
    constexpr uint64_t kCap = uint64_t{1} << 50;
    const uint64_t vault_size = std::max(std::min(needed_bytes_, kCap),
                                         std::min(p.quota_bytes, kCap) * static_cast<uint64_t>(k_));
    const uint64_t suggest = std::min(vault_size * 2, kCap);
    return WithKind(
        absl::ResourceExhaustedError(absl::StrCat(
            "supplier ", p.address, " (position ", i, ") has no room for the next block: quota ",
            FormatByteSize(p.quota_bytes), ", used ", FormatByteSize(p.used_bytes),
            " before this backup and ", FormatByteSize(charged_[i]), " by it, the block needs ",
            FormatByteSize(cost), " there (", FormatByteSize(kReserveBytes),
            " are kept for the snapshot record); nothing more was uploaded. Grow the quota "
            "with `shardkeep suppliers resize --needed ",
            (suggest + (1 << 20) - 1) >> 20,
            "MiB` (or more), or free space with `shardkeep forget "
            "--keep-... --prune`, then back up again")),
        ErrorKind::kQuotaExceeded);
  }
  for (size_t i = 0; i < positions_.size(); ++i) {
    if (i < 64 && (skip_mask >> i & 1)) continue;
    charged_[i] += cost;
  }
  return absl::OkStatus();
}

uint64_t QuotaBudget::charged(int position) const {
  std::lock_guard<std::mutex> lock(mu_);
  return charged_.at(position);
}

}  // namespace shardkeep::customer
