// Fuzzes what a command reads from the customer's config dir before it
// trusts anything (docs/FORMAT.md): `<config-dir>/config` (VaultConfig,
// checked against the key record and ValidateConfig) and `<config-dir>/seen`
// (SeenState: the newest snapshot seen, key records pending), through the
// real path: Vault::Open, Repository::Open over in-memory suppliers
// (MemVault: a real vault made as `init` makes one, with the cheap test
// key derivation), CheckSuppliers (which pushes pending key records), and
// LoadSnapshots (the rollback check against the remembered newest).
//
// Input: flags byte, then
//   bit 0: Field() replaces `seen` with raw bytes;
//   bit 1: a SeenState from fields replaces `seen`: U64 newest sequence,
//          Field() snapshot ID, U64 time, byte count, then that many U32
//          pending positions (the vault has n = 4; any position may come);
//   bit 2: Field() replaces `config` with raw bytes;
//   bit 3: `config` is the vault's own with the fields that follow changed:
//          U32 n, U32 k, U64 block size, U32 generation (a local edit).
// The key record is left alone (key_record fuzzes it; its KDF would cost
// seconds per input).
// Properties:
//   - Open and every step end with a result or an error, never a crash;
//   - an opened vault's config validates and is the one in the file;
//   - a remembered newest sequence above every listed snapshot (there is
//     none) is reported as a problem by the history check;
//   - `seen` is as written or parses after the command (what it wrote back).
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "customer/repo/mem_vault_for_test.h"
#include "customer/repo/repository.h"
#include "customer/vault/vault.h"
#include "proto/vault.pb.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace customer = shardkeep::customer;
namespace fuzz = shardkeep::fuzz;
namespace vault = shardkeep::vault::v1;
using customer::testing::MemVault;
using fuzz::Input;

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void Write(const std::string& path, std::string_view data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

struct World {
  World() {
    setenv("TEST_TMPDIR", fuzz::MakeScratchDir("config-dir").c_str(), 1);
    auto v = MemVault::Create();
    if (!v.ok()) {
      std::fprintf(stderr, "MemVault: %s\n", std::string(v.status().message()).c_str());
      std::abort();
    }
    mem = std::move(*v);
    config = Read(mem->config_dir() + "/config");
    FUZZ_CHECK(original.ParseFromString(config));
    std::atexit([] { fuzz::RemoveTree(std::getenv("TEST_TMPDIR")); });
  }
  std::unique_ptr<MemVault> mem;
  std::string config;  // as init wrote it
  vault::VaultConfig original;
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = TheWorld();
  const std::string dir = w.mem->config_dir();
  Input in(data, size);
  const uint8_t flags = in.Byte();
  Write(dir + "/config", w.config);
  unlink((dir + "/seen").c_str());
  uint64_t remembered = 0;
  std::string seen_written;
  if (flags & 1) {
    const std::string_view raw = in.Field();
    Write(dir + "/seen", raw);
    seen_written = std::string(raw);
    vault::SeenState s;
    if (s.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) remembered = s.newest_sequence();
  }
  if (flags & 2) {
    vault::SeenState s;
    s.set_newest_sequence(in.U64());
    s.set_newest_snapshot_id(std::string(in.Field()));
    s.set_newest_time_ns(static_cast<int64_t>(in.U64()));
    for (int n = in.Byte(); n > 0; --n) s.add_key_record_pending(in.U32());
    seen_written = s.SerializeAsString();
    Write(dir + "/seen", seen_written);
    remembered = s.newest_sequence();
  }
  std::string config_written = w.config;
  if (flags & 4) config_written = std::string(in.Field());
  if (flags & 8) {
    vault::VaultConfig c = w.original;
    c.set_supplier_count(in.U32());
    c.set_data_shards(in.U32());
    c.set_block_size(in.U64());
    c.set_generation(in.U32());
    config_written = c.SerializeAsString();
  }
  Write(dir + "/config", config_written);

  {
    auto repo = w.mem->Open(/*min_reachable=*/-1, std::chrono::milliseconds(200));
    if (repo.ok()) {
      const vault::VaultConfig& c = (*repo)->vault().config();
      FUZZ_CHECK(customer::ValidateConfig(c).ok());
      FUZZ_CHECK(c.SerializeAsString() == config_written ||
                 [&] {  // the same message, serialised another way (field order, unknowns)
                   vault::VaultConfig parsed;
                   return parsed.ParseFromString(config_written) &&
                          parsed.SerializeAsString() == c.SerializeAsString();
                 }());
      std::string problems;
      (*repo)->set_warning_sink([&](const std::string& m) { problems += m + "\n"; });
      auto snaps = (*repo)->LoadSnapshots();
      if (snaps.ok()) {
        FUZZ_CHECK(snaps->empty());
        if (remembered > 0) FUZZ_CHECK(!(*repo)->history().problems.empty());
      }
    }
  }
  const std::string seen_after = Read(dir + "/seen");
  vault::SeenState after;
  FUZZ_CHECK(seen_after == seen_written || after.ParseFromString(seen_after));
  return 0;
}
