// Fuzzes the vault configuration: object "config" on every supplier (the
// recovery path reads it back) and <config-dir>/config, checked by
// customer::ValidateConfig before any command uses it.
//
// Input: a serialised VaultConfig. A config that ValidateConfig accepts must
// be usable without a crash by everything that trusts it afterwards: the
// Reed-Solomon codec for (n, k), the commit threshold, the chunker with its
// parameters, and a block of its block size. It must also survive a
// serialise/parse round trip unchanged and still validate.
#include <cstdint>
#include <string>

#include "common/chunker.h"
#include "customer/net/supplier_set.h"
#include "customer/vault/vault.h"
#include "proto/vault.pb.h"
#include "raid/codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
namespace customer = shardkeep::customer;
namespace chunker = shardkeep::chunker;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shardkeep::vault::v1::VaultConfig config;
  if (!config.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::Status s = customer::ValidateConfig(config);
  if (!s.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(s));
    return 0;
  }
  const int n = static_cast<int>(config.supplier_count());
  const int k = static_cast<int>(config.data_shards());
  FUZZ_CHECK(n >= 2 && n <= 64 && k >= 1 && k < n);
  FUZZ_CHECK(config.suppliers_size() == n);
  for (int i = 0; i < n; ++i)
    FUZZ_CHECK(config.suppliers(i).position() == static_cast<uint32_t>(i));
  const int threshold = customer::CommitThreshold(n, k);
  FUZZ_CHECK(threshold > k && threshold <= n);

  auto codec = shardkeep::raid::Codec::Create(n, k);
  FUZZ_CHECK(codec.ok());
  FUZZ_CHECK(config.block_size() >= 4096 && config.block_size() <= (uint64_t{256} << 20));
  const size_t fragment = (*codec)->FragmentSize(config.block_size());
  FUZZ_CHECK(fragment > 0 && fragment * static_cast<size_t>(k) >= config.block_size());

  chunker::Params p;
  p.min_size = config.chunker().min_size();
  p.avg_size = config.chunker().avg_size();
  p.max_size = config.chunker().max_size();
  FUZZ_CHECK(chunker::ValidParams(p));
  // The chunker over a few KiB with these parameters: lengths in bounds, sum exact.
  static const std::string kData = [] {
    std::string d(12345, '\0');
    uint32_t x = 1;
    for (char& c : d) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
    return d;
  }();
  size_t total = 0;
  for (size_t len :
       chunker::ChunkLengths(reinterpret_cast<const uint8_t*>(kData.data()), kData.size(), p)) {
    FUZZ_CHECK(len >= 1 && len <= p.max_size);
    total += len;
  }
  FUZZ_CHECK(total == kData.size());

  shardkeep::vault::v1::VaultConfig again;
  FUZZ_CHECK(again.ParseFromString(config.SerializeAsString()));
  FUZZ_CHECK(again.SerializeAsString() == config.SerializeAsString());
  FUZZ_CHECK(customer::ValidateConfig(again).ok());
  return 0;
}
