// Fuzzes snapshot records (objects "snapshots/<id>", from untrusted
// suppliers, opened under the metadata key) and the snapshot spec the CLI
// accepts (a full ID, an unambiguous hex prefix, or "latest"):
// customer::Repository::FindSnapshot.
//
// Input: Field() spec, then up to 16 Field()s each a serialised Snapshot
// (unparsable ones are dropped). The records are sorted as LoadSnapshots
// sorts them, then FindSnapshot's answer is checked against a model of its
// contract: "latest" is the newest; an exact ID (hex, any case) wins; else a
// prefix matching one ID selects it, several is InvalidArgument, none is
// NotFound (also for an empty vault).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "customer/repo/repository.h"
#include "proto/vault.pb.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::Input;
namespace customer = shardkeep::customer;
namespace vault = shardkeep::vault::v1;

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const std::string spec(in.Field());
  std::vector<vault::Snapshot> snaps;
  while (!in.empty() && snaps.size() < 16) {
    const std::string_view bytes = in.Field();
    vault::Snapshot s;
    if (s.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) snaps.push_back(s);
  }
  std::sort(snaps.begin(), snaps.end(), [](const auto& a, const auto& b) {
    return a.time_ns() != b.time_ns() ? a.time_ns() < b.time_ns() : a.id() < b.id();
  });
  auto found = customer::Repository::FindSnapshot(snaps, spec);

  if (snaps.empty()) {
    FUZZ_CHECK(absl::IsNotFound(found.status()));
    return 0;
  }
  if (spec == "latest") {
    FUZZ_CHECK(found.ok() && found->SerializeAsString() == snaps.back().SerializeAsString());
    return 0;
  }
  const std::string want = Lower(spec);
  const vault::Snapshot* exact = nullptr;
  std::vector<const vault::Snapshot*> prefixed;
  for (const auto& s : snaps) {
    const std::string hex = shardkeep::crypto::ToHex(s.id());
    if (hex == want && exact == nullptr) exact = &s;
    if (!want.empty() && hex.compare(0, want.size(), want) == 0) prefixed.push_back(&s);
  }
  if (exact != nullptr) {
    FUZZ_CHECK(found.ok() && found->SerializeAsString() == exact->SerializeAsString());
  } else if (prefixed.size() == 1) {
    FUZZ_CHECK(found.ok() && found->SerializeAsString() == prefixed[0]->SerializeAsString());
  } else if (prefixed.size() > 1) {
    FUZZ_CHECK(absl::IsInvalidArgument(found.status()));
  } else {
    FUZZ_CHECK(absl::IsNotFound(found.status()));
  }
  return 0;
}
