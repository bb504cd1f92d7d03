// Reed-Solomon erasure codec on Intel ISA-L: a pure codec, no crypto, no
// network, no files. A block of any length becomes n equal-size fragments,
// any k of which give the block back. The codec pads and records the
// original length itself (layout in docs/FORMAT.md, "Fragments"):
//
//   padded = block || zero padding || uint64 little-endian len(block)
//   fragment size S = ceil((len(block) + 8) / k), |padded| = k * S
//   fragment i < k   = padded[i*S, (i+1)*S)           (data, systematic)
//   fragment i >= k  = sum_j C[i][j] * fragment j      (parity, GF(2^8))
//
// where C is ISA-L's gf_gen_cauchy1_matrix(n, k): C[i][j] = 1 / (i XOR j) in
// GF(2^8) with the polynomial 0x11D. Every k x k submatrix of the n x k
// generator is invertible, so any k fragments decode, for every n <= 64.
//
// Fragments carry no checksum of their own: callers must verify each
// fragment (the vault keeps a hash per fragment) before handing it over.
// Corruption that reaches the codec is only caught where it breaks the
// recorded length or the zero padding (DataLoss).
#ifndef SHARDKEEP_RAID_CODEC_H_
#define SHARDKEEP_RAID_CODEC_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardkeep::raid {

// Bounds on the fragment count n.
inline constexpr int kMinFragments = 2;
inline constexpr int kMaxFragments = 64;

// Default data-fragment count for n fragments: ceil(n / 2).
int DefaultDataShards(int n);

// A codec for fixed (n, k); 2 <= n <= 64, 1 <= k < n. Immutable after
// Create apart from an internal, mutex-guarded cache of decode tables, so
// one instance may be shared by threads.
class Codec {
 public:
  // InvalidArgument unless 2 <= n <= 64 and 1 <= k < n.
  static absl::StatusOr<std::unique_ptr<Codec>> Create(int n, int k);
  ~Codec();
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  int n() const;
  int k() const;
  // Size of every fragment for a block of block_size bytes:
  // ceil((block_size + 8) / k), never 0.
  size_t FragmentSize(size_t block_size) const;

  // n fragments of FragmentSize(block.size()) bytes; positions 0..k-1 are
  // data, k..n-1 parity. Fails only for blocks too large to address.
  absl::StatusOr<std::vector<std::string>> Encode(std::string_view block) const;

  // Encode into `*fragments`, reusing the capacity of the strings already
  // there (the vector is resized to n). Callers that encode block after block
  // should keep one vector: fresh multi-MiB buffers cost a page fault per
  // 4 KiB on first touch, which on this VM is slower than the coding itself
  // (see docs/FORMAT.md, "Fragments", performance notes). `block` must not
  // point into `*fragments`.
  absl::Status EncodeTo(std::string_view block, std::vector<std::string>* fragments) const;

  // The exact block from any >= k fragments keyed by position (extra ones are
  // ignored; data positions are preferred, and when all k data fragments are
  // present no decoding arithmetic runs). InvalidArgument for fewer than k,
  // a position out of range or fragments of unequal or zero size; DataLoss if
  // the recorded length or the padding is inconsistent with the fragment size.
  absl::StatusOr<std::string> Decode(const std::map<int, std::string>& fragments) const;

  // Decode into `*block`, reusing its capacity. On error `*block` is empty.
  // `block` must not be one of the strings in `fragments`.
  absl::Status DecodeTo(const std::map<int, std::string>& fragments, std::string* block) const;

  // Recomputes the fragments at the `missing` positions from >= k of the
  // other fragments (positions listed in `missing` are never used as a source,
  // even if present in `fragments`, so a suspect fragment can be recomputed
  // and compared). Returns exactly one fragment per position in `missing`.
  // InvalidArgument for positions out of range, duplicates in `missing`,
  // fragments of unequal or zero size, or fewer than k usable sources.
  absl::StatusOr<std::map<int, std::string>> Rebuild(const std::map<int, std::string>& fragments,
                                                     const std::vector<int>& missing) const;

 private:
  Codec();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience one-shot forms (they build the encode tables on every call;
// keep a Codec for repeated use).
absl::StatusOr<std::vector<std::string>> Encode(std::string_view block, int n, int k);
absl::StatusOr<std::string> Decode(const std::map<int, std::string>& fragments, int n, int k);

}  // namespace shardkeep::raid

#endif  // SHARDKEEP_RAID_CODEC_H_
