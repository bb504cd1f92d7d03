// Single-thread throughput of the crypto primitives on the backup data path:
// AES-256-GCM seal/open, the keyed chunk hash (ChunkId = HMAC-SHA256), keyed
// BLAKE2b (the alternative the chunk hash was chosen against) and SHA-256.
//
//   bazel build -c opt //tests/bench:crypto_bench
//   bazel-bin/tests/bench/crypto_bench --benchmark_repetitions=5 \
//       --benchmark_report_aggregates_only=true
//
// Targets (issue 2, 8 MiB blocks): AES-256-GCM >= 2.5 GB/s, chunk hash >= 1.4
// GB/s. The "GBps" counter is in 10^9 bytes/s (bytes_per_second is in GiB/s).
//
// The context lines show which code paths Crypto++ takes (CPU features and
// AlgorithmProvider() names). The *_without_* benchmarks prove the speed comes
// from those instructions: they switch Crypto++'s CPU-feature flags off
// (CryptoPP::g_hasCLMUL etc., read when a key is set up and on each call),
// run the same function, check the output against the normal path, and
// restore the flags. Single-threaded only; never do this outside a benchmark.
#include <cryptopp/blake2.h>
#include <cryptopp/cpu.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "benchmark/benchmark.h"
#include "common/crypto.h"

namespace shardkeep::crypto {
namespace {

constexpr int64_t kKiB = 1024, kMiB = 1024 * 1024;

// The first `size` bytes (at most 8 MiB) of one random buffer.
std::string_view Input(size_t size) {
  static const std::string* data = new std::string(RandomBytes(8 * kMiB));
  return std::string_view(*data).substr(0, size);
}

void Report(benchmark::State& state, int64_t bytes_per_iteration) {
  state.SetBytesProcessed(state.iterations() * bytes_per_iteration);
  state.counters["GBps"] =
      benchmark::Counter(static_cast<double>(state.iterations() * bytes_per_iteration),
                         benchmark::Counter::kIsRate, benchmark::Counter::OneK::kIs1000);
}

// A fresh nonce per message, as a writer does per chunk (a counter here, so
// the benchmark measures the cipher, not the OS RNG; see BM_RandomNonce).
std::string Nonce(uint64_t counter) {
  std::string nonce(kAeadNonceSize, '\0');
  std::memcpy(&nonce[0], &counter, sizeof counter);
  return nonce;
}

const std::string kKey(kAeadKeySize, '\x42');
const std::string kAad = "vault=1 block=2";

void BM_AeadSeal(benchmark::State& state) {
  const size_t size = state.range(0);
  const std::string_view plaintext = Input(size);
  std::string sealed;
  uint64_t counter = 0;
  for (auto _ : state) {
    absl::Status s = AeadSeal(kKey, Nonce(++counter), kAad, plaintext, &sealed);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(sealed.data());
  }
  Report(state, size);
}
BENCHMARK(BM_AeadSeal)->Arg(4 * kKiB)->Arg(64 * kKiB)->Arg(1 * kMiB)->Arg(8 * kMiB);

void BM_AeadOpen(benchmark::State& state) {
  const size_t size = state.range(0);
  const std::string_view plaintext = Input(size);
  const std::string nonce = Nonce(1);
  std::string sealed, opened;
  if (!AeadSeal(kKey, nonce, kAad, plaintext, &sealed).ok()) state.SkipWithError("seal failed");
  for (auto _ : state) {
    absl::Status s = AeadOpen(kKey, nonce, kAad, sealed, &opened);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(opened.data());
  }
  if (opened != plaintext) state.SkipWithError("open returned other bytes");
  Report(state, size);
}
BENCHMARK(BM_AeadOpen)->Arg(1 * kMiB)->Arg(8 * kMiB);

void BM_ChunkIdHmacSha256(benchmark::State& state) {
  const size_t size = state.range(0);
  const std::string_view data = Input(size);
  for (auto _ : state) benchmark::DoNotOptimize(ChunkId(kKey, data));
  Report(state, size);
}
BENCHMARK(BM_ChunkIdHmacSha256)->Arg(1 * kMiB)->Arg(8 * kMiB);

// The alternative chunk hash: BLAKE2b keyed with the 32-byte chunk key and a
// 32-byte digest, the same shape as ChunkId. Not in the library: it lost.
void BM_KeyedBlake2b(benchmark::State& state) {
  const size_t size = state.range(0);
  const std::string_view data = Input(size);
  std::string digest(32, '\0');
  for (auto _ : state) {
    CryptoPP::BLAKE2b mac(reinterpret_cast<const CryptoPP::byte*>(kKey.data()), kKey.size(),
                          /*salt=*/nullptr, 0, /*personalization=*/nullptr, 0,
                          /*treeMode=*/false, /*digestSize=*/32);
    mac.CalculateDigest(reinterpret_cast<CryptoPP::byte*>(&digest[0]),
                        reinterpret_cast<const CryptoPP::byte*>(data.data()), data.size());
    benchmark::DoNotOptimize(digest.data());
  }
  Report(state, size);
}
BENCHMARK(BM_KeyedBlake2b)->Arg(1 * kMiB)->Arg(8 * kMiB);

void BM_Sha256(benchmark::State& state) {
  const size_t size = state.range(0);
  const std::string_view data = Input(size);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  Report(state, size);
}
BENCHMARK(BM_Sha256)->Arg(1 * kMiB)->Arg(8 * kMiB);

// Cost of a random 12-byte nonce from the OS per sealed chunk.
void BM_RandomNonce(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(RandomBytes(kAeadNonceSize));
}
BENCHMARK(BM_RandomNonce);

// ------------------------------------------- ablations: the proof ----

// Turns Crypto++'s feature flags off for its lifetime (detection runs first,
// so the flags are not re-detected behind our back).
class CpuFeaturesOff {
 public:
  CpuFeaturesOff(bool aesni, bool clmul, bool sha) {
    (void)CryptoPP::HasAESNI();  // runs DetectX86Features() once
    saved_aesni_ = CryptoPP::g_hasAESNI;
    saved_clmul_ = CryptoPP::g_hasCLMUL;
    saved_sha_ = CryptoPP::g_hasSHA;
    if (aesni) CryptoPP::g_hasAESNI = false;
    if (clmul) CryptoPP::g_hasCLMUL = false;
    if (sha) CryptoPP::g_hasSHA = false;
  }
  ~CpuFeaturesOff() {
    CryptoPP::g_hasAESNI = saved_aesni_;
    CryptoPP::g_hasCLMUL = saved_clmul_;
    CryptoPP::g_hasSHA = saved_sha_;
  }

 private:
  bool saved_aesni_, saved_clmul_, saved_sha_;
};

void AeadSealWithout(benchmark::State& state, bool aesni, bool clmul) {
  const size_t size = state.range(0);
  const std::string_view plaintext = Input(size);
  const std::string nonce = Nonce(7);
  std::string sealed;
  {
    CpuFeaturesOff off(aesni, clmul, /*sha=*/false);
    const Implementation impl = DescribeImplementation();
    state.SetLabel("AES=" + impl.aes_provider + " GHASH=" + impl.ghash_path);
    for (auto _ : state) {
      if (!AeadSeal(kKey, nonce, kAad, plaintext, &sealed).ok()) state.SkipWithError("seal");
      benchmark::DoNotOptimize(sealed.data());
    }
  }
  // Same bytes as the hardware path, so the comparison is like for like.
  std::string opened;
  if (!AeadOpen(kKey, nonce, kAad, sealed, &opened).ok() || opened != plaintext) {
    state.SkipWithError("ablated seal differs from the hardware path");
  }
  Report(state, size);
}

void BM_AeadSeal_without_CLMUL(benchmark::State& state) {
  AeadSealWithout(state, /*aesni=*/false, /*clmul=*/true);
}
BENCHMARK(BM_AeadSeal_without_CLMUL)->Arg(8 * kMiB);

void BM_AeadSeal_without_AESNI_CLMUL(benchmark::State& state) {
  AeadSealWithout(state, /*aesni=*/true, /*clmul=*/true);
}
BENCHMARK(BM_AeadSeal_without_AESNI_CLMUL)->Arg(8 * kMiB);

void BM_ChunkIdHmacSha256_without_SHANI(benchmark::State& state) {
  const size_t size = state.range(0);
  const std::string_view data = Input(size);
  const std::string expected = ChunkId(kKey, data);
  std::string id;
  {
    CpuFeaturesOff off(/*aesni=*/false, /*clmul=*/false, /*sha=*/true);
    state.SetLabel("SHA256=" + DescribeImplementation().sha256_provider);
    for (auto _ : state) {
      id = ChunkId(kKey, data);
      benchmark::DoNotOptimize(id.data());
    }
  }
  if (id != expected) state.SkipWithError("ablated ChunkId differs from the hardware path");
  Report(state, size);
}
BENCHMARK(BM_ChunkIdHmacSha256_without_SHANI)->Arg(8 * kMiB);

}  // namespace
}  // namespace shardkeep::crypto

int main(int argc, char** argv) {
  using shardkeep::crypto::DescribeImplementation;
  using shardkeep::crypto::Implementation;
  const Implementation impl = DescribeImplementation();
  benchmark::AddCustomContext("cryptopp_version", std::to_string(impl.cryptopp_version));
  benchmark::AddCustomContext("HasAESNI", impl.aesni ? "1" : "0");
  benchmark::AddCustomContext("HasCLMUL", impl.clmul ? "1" : "0");
  benchmark::AddCustomContext("HasSHA", impl.sha_ni ? "1" : "0");
  benchmark::AddCustomContext("AES_provider", impl.aes_provider);
  benchmark::AddCustomContext("GCM_provider", impl.gcm_provider);
  benchmark::AddCustomContext("GHASH_path", impl.ghash_path);
  benchmark::AddCustomContext("SHA256_provider", impl.sha256_provider);
  benchmark::AddCustomContext("HMAC_SHA256_provider", impl.hmac_provider);
  benchmark::AddCustomContext("BLAKE2b_provider", impl.blake2b_provider);
  benchmark::AddCustomContext("chunk_hash", "HMAC-SHA256 (ChunkId)");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
