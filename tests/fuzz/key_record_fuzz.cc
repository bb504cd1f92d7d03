// Fuzzes the key record: the one object a supplier hands out without a
// signature (GetKeyRecord), parsed and unwrapped during recovery before
// anything else authenticates the supplier (customer/keys.h).
//
// Input: a serialised KeyRecord. Parsed as the recovery path does, then
// UnwrapMasterKey with the fuzz passphrase. Properties:
//   - a record that does not parse or open is refused, never crashes;
//   - a record that unwraps is exactly what WrapMasterKey makes: re-sealing
//     the returned master key under the same KEK, nonce and associated data
//     gives the stored wrapped key (no field outside the AAD matters), and
//     another passphrase does not open it;
//   - a record whose scrypt cost 128 * N * r * p is above 4 GiB is refused
//     at once (a supplier must not be able to make recovery run for hours).
// Records whose cost is real but moderate (the default N = 2^16 costs
// 0.2 s) are parsed but not unwrapped: too slow to fuzz.
#include <cstdint>
#include <string>

#include "common/crypto.h"
#include "customer/vault/keys.h"
#include "proto/vault.pb.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::kPassphrase;
namespace customer = shardkeep::customer;
namespace crypto = shardkeep::crypto;

// 128 * n * r * p, saturating at 2^64 - 1.
uint64_t ScryptCost(uint64_t n, uint64_t r, uint64_t p) {
  unsigned __int128 c = 128;
  for (uint64_t f : {n, r, p}) {
    c *= f;
    if (c > UINT64_MAX) return UINT64_MAX;
  }
  return static_cast<uint64_t>(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shardkeep::vault::v1::KeyRecord record;
  if (!record.ParseFromArray(data, static_cast<int>(size))) return 0;
  const uint64_t cost = ScryptCost(record.scrypt_n(), record.scrypt_r(), record.scrypt_p());
  constexpr uint64_t kCheap = uint64_t{4} << 20;
  constexpr uint64_t kLimit = uint64_t{4} << 30;
  if (cost > kCheap && cost <= kLimit) return 0;  // legitimate but slow
  auto master = customer::UnwrapMasterKey(record, kPassphrase);
  if (cost > kLimit) {
    FUZZ_CHECK(!master.ok());
    return 0;
  }
  if (!master.ok()) return 0;
  FUZZ_CHECK(master->size() == customer::kMasterKeySize);
  auto kek = crypto::Scrypt(kPassphrase, record.salt(), record.scrypt_n(), record.scrypt_r(),
                            record.scrypt_p(), crypto::kAeadKeySize);
  FUZZ_CHECK(kek.ok());
  std::string rewrapped;
  FUZZ_CHECK(
      crypto::AeadSeal(*kek, record.nonce(), customer::KeyRecordAad(record), *master, &rewrapped)
          .ok());
  FUZZ_CHECK(rewrapped == record.wrapped_master_key());
  if (!record.customer_key().empty()) {
    FUZZ_CHECK(customer::DeriveKeys(*master, record.vault_id()).identity_public ==
               record.customer_key());
  }
  FUZZ_CHECK(!customer::UnwrapMasterKey(record, "another passphrase").ok());
  return 0;
}
