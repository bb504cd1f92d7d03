#include "raid/codec.h"

#include <isa-l.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace shardkeep::raid {
namespace {

using Byte = unsigned char;

// The original block length, stored little-endian at the end of the padded
// block (so it lives in the last data fragment and is rebuilt like any data).
constexpr size_t kTrailerBytes = 8;

// ISA-L streams over whole fragments; with MiB-sized fragments the k sources
// fall out of L2 between the passes ISA-L makes for each group of (up to 6)
// output rows, and copies of the data rows would be read twice. So columns
// are processed in slices sized to keep one slice of every input and output
// row in L2 (1 MiB per core here). Measured with tests/bench/raid_bench on
// 8 MiB blocks: 512 KiB was as good as or better than 128 KiB .. 2 MiB, and
// whole-fragment calls were 1.5-2x slower (worst-case decode at n=4: 0.6-0.9
// ms vs 0.38-0.49 ms per block).
constexpr size_t kSliceBudgetBytes = 512 << 10;
constexpr size_t kMinSliceBytes = 4 << 10;
// Upper bound also keeps every length handed to ISA-L (an int) small.
constexpr size_t kMaxSliceBytes = 256 << 10;

// Slice width for a step that touches `rows` rows (inputs plus outputs) of
// `fragment_size` columns: a multiple of 64 bytes (one AVX-512 vector), or
// the whole fragment if that is smaller.
size_t SliceWidth(int rows, size_t fragment_size) {
  return std::min(
      std::clamp(kSliceBudgetBytes / rows, kMinSliceBytes, kMaxSliceBytes) & ~size_t{63},
      fragment_size);
}

// Decode/rebuild tables are cached per (sources, targets) pattern: a restore
// usually meets the same few loss patterns over and over, and inverting the
// k x k matrix costs ~130 us at k = 32. Bounded: at most this many entries
// (each <= 32 * 64 * 64 bytes); the cache is simply cleared when full.
constexpr size_t kMaxCachedTables = 64;

uint64_t MaskOf(const std::vector<int>& positions) {
  uint64_t mask = 0;
  for (int p : positions) mask |= uint64_t{1} << p;
  return mask;
}

Byte* AsBytes(char* p) { return reinterpret_cast<Byte*>(p); }
Byte* AsBytes(const char* p) { return reinterpret_cast<Byte*>(const_cast<char*>(p)); }

}  // namespace

int DefaultDataShards(int n) { return (n + 1) / 2; }

struct Codec::Impl {
  using Tables = std::vector<Byte>;

  int n = 0;
  int k = 0;
  // n x k generator, row-major: identity on top, Cauchy rows below.
  std::vector<Byte> generator;
  // ec_init_tables of the n - k parity rows.
  Tables encode_tables;

  mutable absl::Mutex mu;
  mutable std::map<std::pair<uint64_t, uint64_t>, std::shared_ptr<const Tables>> cache
      ABSL_GUARDED_BY(mu);

  // Size shared by all fragments, after checking positions and sizes.
  absl::StatusOr<size_t> CheckFragments(const std::map<int, std::string>& fragments) const;

  // The first k positions of `fragments` in ascending order (data first, then
  // the lowest parity positions), skipping positions in `excluded`. Fewer
  // than k if there are not enough.
  std::vector<int> ChooseSources(const std::map<int, std::string>& fragments,
                                 uint64_t excluded) const;

  // ec_init_tables for computing the `targets` rows (in order) from the k
  // `sources` rows: row t = generator[t] * inverse(generator[sources]).
  absl::StatusOr<std::shared_ptr<const Tables>> TablesFor(const std::vector<int>& sources,
                                                          const std::vector<int>& targets) const;

  // Appends `width` columns of the k data rows (src[i] points at the first
  // column of row i) to fragments 0..k-1 and the parity computed from them to
  // fragments k..n-1, `slice` columns at a time. `scratch` holds n - k rows
  // of `slice` bytes.
  void EncodeColumns(const Byte* const* src, size_t width, size_t slice,
                     std::vector<std::string>& fragments, Byte* const* scratch) const;

  // Decodes into `padded` (empty on entry): the k * S padded block, then
  // checks and strips the trailer and padding.
  absl::Status DecodePadded(const std::map<int, std::string>& fragments, std::string& padded) const;

  // Checks and removes the length trailer and padding from the k * S padded
  // block in `padded`.
  absl::Status StripTrailer(std::string& padded, size_t fragment_size) const;

  size_t FragmentSize(size_t block_size) const { return (block_size + kTrailerBytes + k - 1) / k; }
};

Codec::Codec() : impl_(std::make_unique<Impl>()) {}
Codec::~Codec() = default;

absl::StatusOr<std::unique_ptr<Codec>> Codec::Create(int n, int k) {
  if (n < kMinFragments || n > kMaxFragments) {
    return absl::InvalidArgumentError(absl::StrCat("raid: fragment count n=", n, " not in [",
                                                   kMinFragments, ", ", kMaxFragments, "]"));
  }
  if (k < 1 || k >= n) {
    return absl::InvalidArgumentError(
        absl::StrCat("raid: data fragment count k=", k, " not in [1, ", n - 1, "] for n=", n));
  }
  std::unique_ptr<Codec> codec(new Codec());
  Impl& impl = *codec->impl_;
  impl.n = n;
  impl.k = k;
  impl.generator.resize(static_cast<size_t>(n) * k);
  gf_gen_cauchy1_matrix(impl.generator.data(), n, k);
  impl.encode_tables.resize(32 * static_cast<size_t>(k) * (n - k));
  ec_init_tables(k, n - k, &impl.generator[static_cast<size_t>(k) * k], impl.encode_tables.data());
  return codec;
}

int Codec::n() const { return impl_->n; }
int Codec::k() const { return impl_->k; }
size_t Codec::FragmentSize(size_t block_size) const { return impl_->FragmentSize(block_size); }

absl::StatusOr<size_t> Codec::Impl::CheckFragments(
    const std::map<int, std::string>& fragments) const {
  if (fragments.empty()) return absl::InvalidArgumentError("raid: no fragments given");
  const auto& [first_position, first] = *fragments.begin();
  const size_t size = first.size();
  for (const auto& [position, fragment] : fragments) {
    if (position < 0 || position >= n) {
      return absl::InvalidArgumentError(
          absl::StrCat("raid: fragment position ", position, " not in [0, ", n, ")"));
    }
    if (fragment.size() != size) {
      return absl::InvalidArgumentError(absl::StrCat("raid: fragment ", position, " has ",
                                                     fragment.size(), " bytes, fragment ",
                                                     first_position, " has ", size));
    }
  }
  if (size < FragmentSize(0)) {
    // Encode never makes fragments smaller than an empty block's: the k data
    // fragments hold at least the 8-byte length trailer.
    return absl::InvalidArgumentError(absl::StrCat(
        "raid: fragment size ", size, " below the minimum ", FragmentSize(0), " for k=", k));
  }
  // Guards k * size (the padded block) against overflow; real fragments are
  // far smaller.
  if (size > std::numeric_limits<size_t>::max() / 2 / kMaxFragments) {
    return absl::InvalidArgumentError("raid: fragments too large");
  }
  return size;
}

std::vector<int> Codec::Impl::ChooseSources(const std::map<int, std::string>& fragments,
                                            uint64_t excluded) const {
  std::vector<int> sources;
  sources.reserve(k);
  for (const auto& entry : fragments) {
    if (static_cast<int>(sources.size()) == k) break;
    if (excluded & (uint64_t{1} << entry.first)) continue;
    sources.push_back(entry.first);
  }
  return sources;
}

absl::StatusOr<std::shared_ptr<const Codec::Impl::Tables>> Codec::Impl::TablesFor(
    const std::vector<int>& sources, const std::vector<int>& targets) const {
  const auto key = std::make_pair(MaskOf(sources), MaskOf(targets));
  {
    absl::MutexLock lock(&mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  const size_t kk = static_cast<size_t>(k);
  std::vector<Byte> sub(kk * kk), inverse(kk * kk);
  for (size_t r = 0; r < kk; ++r) {
    std::memcpy(&sub[r * kk], &generator[sources[r] * kk], kk);
  }
  if (gf_invert_matrix(sub.data(), inverse.data(), k) != 0) {
    // Cannot happen: every k x k submatrix of the Cauchy generator is
    // invertible. Reported rather than trusted.
    return absl::InternalError("raid: singular decode matrix");
  }
  std::vector<Byte> coefficients(targets.size() * kk);
  for (size_t t = 0; t < targets.size(); ++t) {
    const Byte* row = &generator[targets[t] * kk];
    for (size_t c = 0; c < kk; ++c) {
      Byte sum = 0;
      for (size_t j = 0; j < kk; ++j) sum ^= gf_mul(row[j], inverse[j * kk + c]);
      coefficients[t * kk + c] = sum;
    }
  }
  auto tables = std::make_shared<Tables>(32 * kk * targets.size());
  ec_init_tables(k, static_cast<int>(targets.size()), coefficients.data(), tables->data());

  absl::MutexLock lock(&mu);
  if (cache.size() >= kMaxCachedTables) cache.clear();
  cache.emplace(key, tables);
  return std::shared_ptr<const Tables>(std::move(tables));
}

void Codec::Impl::EncodeColumns(const Byte* const* src, size_t width, size_t slice,
                                std::vector<std::string>& fragments, Byte* const* scratch) const {
  Byte* in[kMaxFragments];
  for (size_t off = 0; off < width; off += slice) {
    const size_t w = std::min(slice, width - off);
    for (int i = 0; i < k; ++i) {
      in[i] = const_cast<Byte*>(src[i]) + off;
      fragments[i].append(reinterpret_cast<const char*>(in[i]), w);
    }
    ec_encode_data(static_cast<int>(w), k, n - k, const_cast<Byte*>(encode_tables.data()), in,
                   const_cast<Byte**>(scratch));
    for (int j = 0; j < n - k; ++j) {
      fragments[k + j].append(reinterpret_cast<const char*>(scratch[j]), w);
    }
  }
}

absl::StatusOr<std::vector<std::string>> Codec::Encode(std::string_view block) const {
  std::vector<std::string> fragments;
  RETURN_IF_ERROR(EncodeTo(block, &fragments));
  return fragments;
}

absl::Status Codec::EncodeTo(std::string_view block, std::vector<std::string>* out) const {
  const Impl& impl = *impl_;
  const int n = impl.n, k = impl.k, m = n - k;
  const size_t len = block.size();
  if (len > std::numeric_limits<size_t>::max() / 4) {
    return absl::InvalidArgumentError("raid: block too large");
  }
  const size_t size = impl.FragmentSize(len);
  const size_t padded_size = size * k;

  // Columns [0, lead) of every data row lie inside `block` and are read in
  // place. The remaining columns [lead, size) hold the block's last bytes,
  // the padding and the trailer; they are assembled in `tail` (at most
  // k * (k + 7) bytes, since padding + trailer < k + 8 bytes).
  const size_t last_row_start = (k - 1) * size;
  const size_t lead = len > last_row_start ? len - last_row_start : 0;
  const size_t tail_width = size - lead;
  std::vector<Byte> tail(static_cast<size_t>(k) * tail_width, 0);
  for (int i = 0; i < k; ++i) {
    const size_t begin = i * size + lead, end = std::min((i + 1) * size, len);
    if (begin < end) std::memcpy(&tail[i * tail_width], block.data() + begin, end - begin);
  }
  uint64_t recorded = len;
  for (size_t b = 0; b < kTrailerBytes; ++b, recorded >>= 8) {
    const size_t p = padded_size - kTrailerBytes + b;  // always in a column >= lead
    tail[(p / size) * tail_width + (p % size - lead)] = static_cast<Byte>(recorded);
  }

  std::vector<std::string>& fragments = *out;
  fragments.resize(n);
  for (std::string& fragment : fragments) {
    fragment.clear();
    fragment.reserve(size);  // keeps a larger existing capacity
  }
  const size_t slice = SliceWidth(n, size);
  std::vector<Byte> scratch_buffer(static_cast<size_t>(m) * slice);
  Byte* scratch[kMaxFragments];
  for (int j = 0; j < m; ++j) scratch[j] = &scratch_buffer[j * slice];

  const Byte* src[kMaxFragments];
  if (lead > 0) {
    for (int i = 0; i < k; ++i) src[i] = AsBytes(block.data()) + i * size;
    impl.EncodeColumns(src, lead, slice, fragments, scratch);
  }
  for (int i = 0; i < k; ++i) src[i] = &tail[i * tail_width];
  impl.EncodeColumns(src, tail_width, slice, fragments, scratch);
  return absl::OkStatus();
}

absl::Status Codec::Impl::StripTrailer(std::string& padded, size_t fragment_size) const {
  const size_t padded_size = padded.size();
  uint64_t recorded = 0;
  for (size_t b = kTrailerBytes; b-- > 0;) {
    recorded = recorded << 8 | static_cast<Byte>(padded[padded_size - kTrailerBytes + b]);
  }
  if (recorded > padded_size - kTrailerBytes || FragmentSize(recorded) != fragment_size) {
    return absl::DataLossError(absl::StrCat("raid: recorded block length ", recorded,
                                            " does not match fragment size ", fragment_size,
                                            " for k=", k));
  }
  const size_t len = static_cast<size_t>(recorded);
  for (size_t i = len; i < padded_size - kTrailerBytes; ++i) {
    if (padded[i] != 0) {
      return absl::DataLossError(absl::StrCat("raid: nonzero padding at byte ", i));
    }
  }
  padded.resize(len);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Codec::Decode(const std::map<int, std::string>& fragments) const {
  std::string block;
  RETURN_IF_ERROR(DecodeTo(fragments, &block));
  return block;
}

absl::Status Codec::DecodeTo(const std::map<int, std::string>& fragments,
                             std::string* block) const {
  block->clear();
  absl::Status status = impl_->DecodePadded(fragments, *block);
  if (status.ok()) return absl::OkStatus();
  block->clear();
  return status;
}

absl::Status Codec::Impl::DecodePadded(const std::map<int, std::string>& fragments,
                                       std::string& padded) const {
  ASSIGN_OR_RETURN(const size_t size, CheckFragments(fragments));
  if (static_cast<int>(fragments.size()) < k) {
    return absl::InvalidArgumentError(
        absl::StrCat("raid: ", fragments.size(), " fragments given, need ", k));
  }
  std::vector<int> lost;  // data positions to recompute
  for (int i = 0; i < k; ++i) {
    if (fragments.count(i) == 0) lost.push_back(i);
  }

  if (lost.empty()) {
    // Systematic code: the data fragments are the padded block.
    padded.reserve(size * k);
    for (int i = 0; i < k; ++i) padded.append(fragments.at(i));
  } else {
    const std::vector<int> sources = ChooseSources(fragments, 0);
    ASSIGN_OR_RETURN(std::shared_ptr<const Tables> tables, TablesFor(sources, lost));
    const int rows = static_cast<int>(lost.size());
    padded.resize(size * k);
    Byte* out = AsBytes(padded.data());

    // Present data rows are copied into place slice by slice, while they are
    // in cache as decode sources anyway.
    Byte* src[kMaxFragments];
    Byte* dst[kMaxFragments];
    std::vector<std::pair<const Byte*, Byte*>> copies;
    for (int r = 0; r < k; ++r) {
      src[r] = AsBytes(fragments.at(sources[r]).data());
      if (sources[r] < k) copies.emplace_back(src[r], out + sources[r] * size);
    }
    for (int t = 0; t < rows; ++t) dst[t] = out + lost[t] * size;

    const size_t slice = SliceWidth(k + rows, size);
    Byte* in[kMaxFragments];
    Byte* outs[kMaxFragments];
    for (size_t off = 0; off < size; off += slice) {
      const size_t w = std::min(slice, size - off);
      for (const auto& [from, to] : copies) std::memcpy(to + off, from + off, w);
      for (int r = 0; r < k; ++r) in[r] = src[r] + off;
      for (int t = 0; t < rows; ++t) outs[t] = dst[t] + off;
      ec_encode_data(static_cast<int>(w), k, rows, const_cast<Byte*>(tables->data()), in, outs);
    }
  }
  return StripTrailer(padded, size);
}

absl::StatusOr<std::map<int, std::string>> Codec::Rebuild(
    const std::map<int, std::string>& fragments, const std::vector<int>& missing) const {
  const Impl& impl = *impl_;
  const int n = impl.n, k = impl.k;
  ASSIGN_OR_RETURN(const size_t size, impl.CheckFragments(fragments));
  uint64_t missing_mask = 0;
  for (int p : missing) {
    if (p < 0 || p >= n) {
      return absl::InvalidArgumentError(
          absl::StrCat("raid: position to rebuild ", p, " not in [0, ", n, ")"));
    }
    if (missing_mask & (uint64_t{1} << p)) {
      return absl::InvalidArgumentError(absl::StrCat("raid: position ", p, " listed twice"));
    }
    missing_mask |= uint64_t{1} << p;
  }
  std::map<int, std::string> rebuilt;
  if (missing.empty()) return rebuilt;
  const std::vector<int> sources = impl.ChooseSources(fragments, missing_mask);
  if (static_cast<int>(sources.size()) < k) {
    return absl::InvalidArgumentError(
        absl::StrCat("raid: ", sources.size(), " usable fragments to rebuild from, need ", k));
  }
  std::vector<int> targets(missing);
  std::sort(targets.begin(), targets.end());
  ASSIGN_OR_RETURN(std::shared_ptr<const Impl::Tables> tables, impl.TablesFor(sources, targets));
  const int rows = static_cast<int>(targets.size());

  // Outputs are computed into cache-resident scratch and appended, so the
  // new fragments are written once (no zero-fill first).
  std::vector<std::string> outs(rows);
  for (std::string& out : outs) out.reserve(size);
  const size_t slice = SliceWidth(k + rows, size);
  std::vector<Byte> scratch_buffer(rows * slice);
  Byte* scratch[kMaxFragments];
  for (int t = 0; t < rows; ++t) scratch[t] = &scratch_buffer[t * slice];
  Byte* src[kMaxFragments];
  for (int r = 0; r < k; ++r) src[r] = AsBytes(fragments.at(sources[r]).data());
  Byte* in[kMaxFragments];
  for (size_t off = 0; off < size; off += slice) {
    const size_t w = std::min(slice, size - off);
    for (int r = 0; r < k; ++r) in[r] = src[r] + off;
    ec_encode_data(static_cast<int>(w), k, rows, const_cast<Byte*>(tables->data()), in, scratch);
    for (int t = 0; t < rows; ++t) outs[t].append(reinterpret_cast<const char*>(scratch[t]), w);
  }
  for (int t = 0; t < rows; ++t) rebuilt.emplace(targets[t], std::move(outs[t]));
  return rebuilt;
}

absl::StatusOr<std::vector<std::string>> Encode(std::string_view block, int n, int k) {
  ASSIGN_OR_RETURN(std::unique_ptr<Codec> codec, Codec::Create(n, k));
  return codec->Encode(block);
}

absl::StatusOr<std::string> Decode(const std::map<int, std::string>& fragments, int n, int k) {
  ASSIGN_OR_RETURN(std::unique_ptr<Codec> codec, Codec::Create(n, k));
  return codec->Decode(fragments);
}

}  // namespace shardkeep::raid
