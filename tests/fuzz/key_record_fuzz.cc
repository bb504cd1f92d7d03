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
//   - a record outside the reader's bounds (customer::CheckKdfBounds: 1 GiB,
//     16 passes, ...) is refused at once (a supplier must not be able to make
//     recovery run for hours).
// Records whose cost is real but within bounds (the default 256 MiB costs
// ~0.5 s) are parsed but not unwrapped: too slow to fuzz.
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

// Bytes x passes the record asks for (scrypt: 128 N r p), saturating.
uint64_t KdfCost(const shardkeep::vault::v1::KeyRecord& r) {
  unsigned __int128 c = r.version() == 1 ? 128 : 1024;
  const uint64_t f1 = r.version() == 1 ? r.scrypt_n() : r.argon2_m_cost_kib();
  const uint64_t f2 = r.version() == 1 ? r.scrypt_r() : r.argon2_t_cost();
  const uint64_t f3 = r.version() == 1 ? r.scrypt_p() : 1;
  for (uint64_t f : {f1, f2, f3}) {
    c *= f;
    if (c > UINT64_MAX) return UINT64_MAX;
  }
  return static_cast<uint64_t>(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shardkeep::vault::v1::KeyRecord record;
  if (!record.ParseFromArray(data, static_cast<int>(size))) return 0;
  const bool in_bounds = customer::CheckKdfBounds(record).ok();
  constexpr uint64_t kCheap = uint64_t{4} << 20;
  if (in_bounds && KdfCost(record) > kCheap) return 0;  // legitimate but slow
  auto master = customer::UnwrapMasterKey(record, kPassphrase);
  if (!in_bounds) {
    FUZZ_CHECK(!master.ok());
    return 0;
  }
  if (!master.ok()) return 0;
  FUZZ_CHECK(master->size() == customer::kMasterKeySize);
  auto kek = customer::DeriveKek(record, kPassphrase);
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
