// Reed-Solomon erasure codec on Intel ISA-L: a pure codec, no crypto, no
// network, no files. A block of any length becomes n equal-size fragments,
// any k of which give the block back. The codec pads and records the
// original length itself (layout in docs/FORMAT.md, "Fragments").
#ifndef SHARDKEEP_RAID_CODEC_H_
#define SHARDKEEP_RAID_CODEC_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardkeep::raid {

// Default data-fragment count for n fragments: ceil(n / 2).
int DefaultDataShards(int n);

// A codec for fixed (n, k); 2 <= n <= 64, 1 <= k < n. Immutable after
// Create, so one instance may be shared by threads.
class Codec {
 public:
  static absl::StatusOr<std::unique_ptr<Codec>> Create(int n, int k);
  ~Codec();
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  int n() const;
  int k() const;
  // Size of every fragment for a block of block_size bytes.
  size_t FragmentSize(size_t block_size) const;

  // n fragments; positions 0..k-1 are data, k..n-1 parity.
  absl::StatusOr<std::vector<std::string>> Encode(std::string_view block) const;

  // The exact block from any >= k fragments keyed by position (extra ones are
  // ignored; data positions are preferred). InvalidArgument for fewer than k,
  // a position out of range or fragments of unequal/invalid size; DataLoss if
  // the recorded length is inconsistent.
  absl::StatusOr<std::string> Decode(const std::map<int, std::string>& fragments) const;

  // Recomputes the fragments at `missing` positions from >= k present ones.
  absl::StatusOr<std::map<int, std::string>> Rebuild(
      const std::map<int, std::string>& fragments, const std::vector<int>& missing) const;

 private:
  Codec();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience one-shot forms.
absl::StatusOr<std::vector<std::string>> Encode(std::string_view block, int n, int k);
absl::StatusOr<std::string> Decode(const std::map<int, std::string>& fragments, int n, int k);

}  // namespace shardkeep::raid

#endif  // SHARDKEEP_RAID_CODEC_H_
