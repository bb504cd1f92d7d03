// Fuzzes the supplier's invitation check (supplier/admission.h): the token in
// ContractRequest.invite comes from whoever asks for a contract.
//
// Input: the whole input is the token. CheckInvite must refuse it with
// PermissionDenied unless it is a token MakeInvite made with the secret and
// not yet expired; a valid token, changed in any one character (but the case
// of a hex digit), is refused.
#include <cctype>
#include <cstdint>
#include <string>

#include "supplier/admission.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

const std::string kSecret(32, 's');
constexpr int64_t kNow = 1700000000000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace sup = shardkeep::supplier;
  const std::string token(reinterpret_cast<const char*>(data), size);
  auto id = sup::CheckInvite(kSecret, token, kNow);
  if (id.ok()) {
    // Only a token signed with the secret passes: a forgery would need the MAC.
    FUZZ_CHECK(id->size() == 8);
  } else {
    FUZZ_CHECK(absl::IsPermissionDenied(id.status()));
  }
  // A real token passes, and any one-character change of it is refused.
  const std::string real = sup::MakeInvite(kSecret, kNow + 1000 + (size % 1000));
  FUZZ_CHECK(sup::CheckInvite(kSecret, real, kNow).ok());
  FUZZ_CHECK(!sup::CheckInvite(kSecret, real, kNow + 10000).ok());  // expired
  if (size > 0) {
    std::string changed = real;
    const size_t at = data[0] % changed.size();
    const char c = static_cast<char>(data[size - 1]);
    // (Hex digits are read in either case: 'a' -> 'A' is the same token and
    // the same id, so it opens nothing more.)
    if (changed[at] != c && std::tolower(static_cast<unsigned char>(changed[at])) !=
                                std::tolower(static_cast<unsigned char>(c))) {
      changed[at] = c;
      FUZZ_CHECK(!sup::CheckInvite(kSecret, changed, kNow).ok());
    }
  }
  return 0;
}
