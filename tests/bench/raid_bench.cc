// Reed-Solomon codec throughput, single thread, 8 MiB blocks, k = ceil(n/2).
// Bytes/s are bytes of block (input to Encode, output of Decode).
//   bazel build -c opt //tests/bench:raid_bench &&
//   bazel-bin/tests/bench/raid_bench --benchmark_repetitions=5 \
//       --benchmark_report_aggregates_only=true
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/malloc_tuning.h"
#include "raid/codec.h"

namespace shardkeep::raid {
namespace {

constexpr size_t kBlockBytes = 8 << 20;

std::string RandomBlock() {
  std::mt19937_64 rng(42);
  std::string block(kBlockBytes, '\0');
  for (size_t i = 0; i + 8 <= block.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(&block[i], &v, 8);
  }
  return block;
}

std::unique_ptr<Codec> CodecFor(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto codec = Codec::Create(n, DefaultDataShards(n));
  if (!codec.ok()) {
    state.SkipWithError(codec.status().ToString().c_str());
    return nullptr;
  }
  return std::move(codec).value();
}

void BM_Encode(benchmark::State& state) {
  auto codec = CodecFor(state);
  if (!codec) return;
  const std::string block = RandomBlock();
  for (auto _ : state) {
    auto fragments = codec->Encode(block);
    benchmark::DoNotOptimize(fragments);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBlockBytes);
  state.counters["k"] = codec->k();
}

// The same into one reused vector of fragments (EncodeTo): no fresh memory
// per block, so no page faults; this is the codec's own cost.
void BM_EncodeReuse(benchmark::State& state) {
  auto codec = CodecFor(state);
  if (!codec) return;
  const std::string block = RandomBlock();
  std::vector<std::string> fragments;
  for (auto _ : state) {
    auto status = codec->EncodeTo(block, &fragments);
    if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
    benchmark::DoNotOptimize(fragments);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBlockBytes);
  state.counters["k"] = codec->k();
}

// Worst case: exactly k fragments left, the n - k lost ones all data
// (positions 0 .. n-k-1), so n - k data rows are recomputed.
void BM_DecodeWorstCase(benchmark::State& state) {
  auto codec = CodecFor(state);
  if (!codec) return;
  const std::string block = RandomBlock();
  auto fragments = codec->Encode(block);
  if (!fragments.ok()) return state.SkipWithError(fragments.status().ToString().c_str());
  const int n = codec->n(), k = codec->k();
  std::map<int, std::string> survivors;
  for (int i = n - k; i < n; ++i) survivors.emplace(i, (*fragments)[i]);
  fragments->clear();
  for (auto _ : state) {
    auto decoded = codec->Decode(survivors);
    if (!decoded.ok() || decoded->size() != kBlockBytes) {
      return state.SkipWithError("decode failed");
    }
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBlockBytes);
  state.counters["lost"] = n - k;
}

void BM_DecodeWorstCaseReuse(benchmark::State& state) {
  auto codec = CodecFor(state);
  if (!codec) return;
  const std::string block = RandomBlock();
  auto fragments = codec->Encode(block);
  if (!fragments.ok()) return state.SkipWithError(fragments.status().ToString().c_str());
  const int n = codec->n(), k = codec->k();
  std::map<int, std::string> survivors;
  for (int i = n - k; i < n; ++i) survivors.emplace(i, (*fragments)[i]);
  fragments->clear();
  std::string decoded;
  for (auto _ : state) {
    auto status = codec->DecodeTo(survivors, &decoded);
    if (!status.ok() || decoded.size() != kBlockBytes) {
      return state.SkipWithError("decode failed");
    }
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBlockBytes);
  state.counters["lost"] = n - k;
}

// Best case for reference: all data fragments present, no arithmetic.
void BM_DecodeNoLoss(benchmark::State& state) {
  auto codec = CodecFor(state);
  if (!codec) return;
  const std::string block = RandomBlock();
  auto fragments = codec->Encode(block);
  if (!fragments.ok()) return state.SkipWithError(fragments.status().ToString().c_str());
  std::map<int, std::string> data;
  for (int i = 0; i < codec->k(); ++i) data.emplace(i, (*fragments)[i]);
  fragments->clear();
  for (auto _ : state) {
    auto decoded = codec->Decode(data);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBlockBytes);
}

// Repair of one lost supplier: one fragment rebuilt from k others. Bytes/s
// are bytes of block, as above.
void BM_RebuildOne(benchmark::State& state) {
  auto codec = CodecFor(state);
  if (!codec) return;
  const std::string block = RandomBlock();
  auto fragments = codec->Encode(block);
  if (!fragments.ok()) return state.SkipWithError(fragments.status().ToString().c_str());
  std::map<int, std::string> others;
  for (int i = 1; i < codec->n(); ++i) others.emplace(i, (*fragments)[i]);
  fragments->clear();
  for (auto _ : state) {
    auto rebuilt = codec->Rebuild(others, {0});
    benchmark::DoNotOptimize(rebuilt);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBlockBytes);
}

void SupplierCounts(benchmark::internal::Benchmark* b) {
  for (int n : {4, 7, 13, 26, 64}) b->Arg(n);
  b->ArgName("n")->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Encode)->Apply(SupplierCounts);
BENCHMARK(BM_EncodeReuse)->Apply(SupplierCounts);
BENCHMARK(BM_DecodeWorstCase)->Apply(SupplierCounts);
BENCHMARK(BM_DecodeWorstCaseReuse)->Apply(SupplierCounts);
BENCHMARK(BM_DecodeNoLoss)->Apply(SupplierCounts);
BENCHMARK(BM_RebuildOne)->Apply(SupplierCounts);

}  // namespace
}  // namespace shardkeep::raid

// Runs with the malloc settings the shardkeep binary uses (see
// common/malloc_tuning.h); --default_malloc measures glibc's defaults, where
// fresh-output Encode pays a page fault per 4 KiB of fragments.
int main(int argc, char** argv) {
  bool default_malloc = false;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--default_malloc") default_malloc = true;
  if (!default_malloc) shardkeep::TuneMallocForLargeBuffers();
  benchmark::AddCustomContext("malloc", default_malloc ? "glibc defaults" : "TuneMallocForLargeBuffers");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
