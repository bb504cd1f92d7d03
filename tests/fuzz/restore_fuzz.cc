// Fuzzes a whole restore from a vault whose trees a keyholder (or a bug)
// wrote: the real Repository (index pieces and snapshot records fetched and
// opened, fragments verified, Reed-Solomon decoded, blocks opened, trees
// loaded from tree blocks) and the real restorer writing into a target dir.
// Suppliers are customer/net's MemSupplier (behind the SupplierClient seam); they
// serve honestly what the harness stored, so every byte of trouble comes
// from the trees.
//
// Input: Field() root tree, Field() second tree. Both are stored as chunks
// of one tree block, under chunk IDs kRootId and kSubId; a data block holds
// chunk kDataId ("hello fuzz"). The snapshot's root is the first tree, so a
// node can refer to either tree (or to itself: a cycle) as its subtree and to
// the data chunk as content. Properties:
//   - the restore ends (no crash, no hang, no stack overflow) with a result
//     or an error, whatever the trees say;
//   - nothing outside the target is created or changed (a sibling directory
//     with a sentinel file stays exactly as it was).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "customer/vault/block.h"
#include "customer/vault/keys.h"
#include "customer/vault/objects.h"
#include "customer/repo/progress.h"
#include "customer/repo/repository.h"
#include "customer/restore/restorer.h"
#include "customer/net/mem_supplier_client.h"
#include "customer/vault/vault.h"
#include "proto/vault.pb.h"
#include "raid/codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using shardkeep::fuzz::Input;
namespace crypto = shardkeep::crypto;
namespace customer = shardkeep::customer;
namespace fuzz = shardkeep::fuzz;
namespace vault = shardkeep::vault::v1;
namespace v1 = shardkeep::v1;

const std::string kMaster(32, 'm');
const std::string kRootId(32, 'R');
const std::string kSubId(32, 'S');
const std::string kDataId(32, 'D');
const std::string kData = "hello fuzz";

// The two suppliers of the vault: the in-memory supplier of customer/net,
// with the contract the vault's identity would hold. Position i holds
// fragment i; both hold every object.
struct World {
  World() {
    for (int i = 0; i < 2; ++i) {
      customer::MemSupplierOptions o;
      o.supplier_id = std::string(16, static_cast<char>('a' + i));
      suppliers.push_back(std::make_unique<customer::MemSupplier>(Address(i), o));
    }
  }
  static std::string Address(int i) { return "mem:" + std::to_string(i); }
  customer::SupplierConnector Connector() {
    return customer::MemConnector({{Address(0), suppliers[0].get()},
                                   {Address(1), suppliers[1].get()}});
  }
  std::vector<std::unique_ptr<customer::MemSupplier>> suppliers;
};

struct Scratch {
  std::string root, config, cache, target, outside, sentinel;
  struct stat outside_st, sentinel_st;
};

const Scratch& GetScratch() {
  static const Scratch& s = *[] {  // never destroyed: the atexit cleanup uses it
    auto* p = new Scratch;
    p->root = fuzz::MakeScratchDir("restore-fuzz");
    p->config = p->root + "/config";
    p->cache = p->root + "/cache";
    p->target = p->root + "/target";
    p->outside = p->root + "/outside";
    p->sentinel = p->outside + "/sentinel";
    FUZZ_CHECK(mkdir(p->outside.c_str(), 0755) == 0);
    FILE* f = std::fopen(p->sentinel.c_str(), "w");
    FUZZ_CHECK(f != nullptr && std::fputs("sentinel", f) >= 0 && std::fclose(f) == 0);
    FUZZ_CHECK(lstat(p->sentinel.c_str(), &p->sentinel_st) == 0);
    FUZZ_CHECK(lstat(p->outside.c_str(), &p->outside_st) == 0);
    std::atexit([] { fuzz::RemoveTree(GetScratch().root); });
    return p;
  }();
  return s;
}

vault::VaultConfig Config() {
  vault::VaultConfig c;
  c.set_version(1);
  c.set_vault_id(fuzz::kVaultId);
  c.set_supplier_count(2);
  c.set_data_shards(1);
  c.set_block_size(8 << 20);
  c.mutable_chunker()->set_min_size(256 << 10);
  c.mutable_chunker()->set_avg_size(1 << 20);
  c.mutable_chunker()->set_max_size(4 << 20);
  for (int i = 0; i < 2; ++i) {
    auto* s = c.add_suppliers();
    s->set_address(World::Address(i));
    s->set_supplier_id(std::string(16, static_cast<char>('a' + i)));
    s->set_position(i);
  }
  return c;
}

// Seals, stripes and indexes one block; its fragments go to the world.
vault::BlockRecord StoreBlock(World* world, const customer::VaultKeys& keys,
                              const shardkeep::raid::Codec& codec, vault::BlockKind kind, char id,
                              const std::vector<std::pair<std::string, std::string>>& chunks) {
  customer::BlockBuilder b(kind, std::string(16, id), 0);
  for (const auto& [cid, bytes] : chunks) {
    b.Add(cid, bytes, static_cast<uint32_t>(bytes.size()), false);
  }
  vault::BlockRecord rec;
  rec.set_block_id(b.block_id());
  rec.set_kind(kind);
  *rec.mutable_chunks() = b.table().chunks();
  const std::string plain = b.Finish();
  auto sealed = customer::SealBlock(keys.block_key, rec.block_id(), plain);
  FUZZ_CHECK(sealed.ok());
  auto fragments = codec.Encode(*sealed);
  FUZZ_CHECK(fragments.ok());
  rec.set_sealed_size(sealed->size());
  rec.set_fragment_size((*fragments)[0].size());
  rec.set_stored_mask(3);
  for (int i = 0; i < 2; ++i) {
    rec.add_fragment_sha256(crypto::Sha256((*fragments)[i]));
    FUZZ_CHECK(world->suppliers[i]
                   ->PutFragment(keys.identity_public, customer::FragmentKey(rec.block_id(), i),
                                 (*fragments)[i], rec.fragment_sha256(i))
                   .ok());
  }
  return rec;
}

void CheckOutsideUntouched(const Scratch& s) {
  struct stat st;
  FUZZ_CHECK(lstat(s.outside.c_str(), &st) == 0 && st.st_mode == s.outside_st.st_mode);
  FUZZ_CHECK(st.st_uid == s.outside_st.st_uid && st.st_nlink == s.outside_st.st_nlink);
  FUZZ_CHECK(st.st_mtim.tv_sec == s.outside_st.st_mtim.tv_sec &&
             st.st_mtim.tv_nsec == s.outside_st.st_mtim.tv_nsec);
  FUZZ_CHECK(lstat(s.sentinel.c_str(), &st) == 0 && st.st_ino == s.sentinel_st.st_ino);
  FUZZ_CHECK(st.st_nlink == 1 && st.st_size == 8 && st.st_mode == s.sentinel_st.st_mode);
  FUZZ_CHECK(st.st_uid == s.sentinel_st.st_uid && st.st_gid == s.sentinel_st.st_gid);
  FUZZ_CHECK(st.st_mtim.tv_sec == s.sentinel_st.st_mtim.tv_sec &&
             st.st_mtim.tv_nsec == s.sentinel_st.st_mtim.tv_nsec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Scratch& s = GetScratch();
  Input in(data, size);
  const std::string root_tree(in.Field());
  const std::string sub_tree(in.Field());

  static const customer::VaultKeys keys = customer::DeriveKeys(kMaster, fuzz::kVaultId);
  static const auto codec = std::move(shardkeep::raid::Codec::Create(2, 1)).value();
  World world;
  for (int i = 0; i < 2; ++i) {
    FUZZ_CHECK(world.suppliers[i]->RequestContract(keys.identity_public, 64 << 20, i, 2).ok());
  }
  vault::IndexPiece piece;
  piece.set_version(1);
  *piece.add_blocks() = StoreBlock(&world, keys, *codec, vault::BLOCK_KIND_TREE, 'T',
                                   {{kRootId, root_tree}, {kSubId, sub_tree}});
  *piece.add_blocks() =
      StoreBlock(&world, keys, *codec, vault::BLOCK_KIND_DATA, 'F', {{kDataId, kData}});
  vault::Snapshot snap;
  snap.set_id(std::string(16, 's'));
  snap.set_time_ns(fuzz::kNowMs * 1000000);
  snap.add_paths("/");
  auto* root = snap.add_root();
  root->set_id(kRootId);
  root->set_length(static_cast<uint32_t>(root_tree.size()));
  const std::string hex = crypto::ToHex(snap.id());
  const std::string piece_name = std::string(customer::kIndexPrefix) + hex + ".0";
  const std::string snap_name = customer::kSnapshotPrefix + hex;
  snap.add_index_objects(piece_name);
  for (const auto& [name, plain] : {std::make_pair(piece_name, piece.SerializeAsString()),
                                    std::make_pair(snap_name, snap.SerializeAsString())}) {
    auto sealed = customer::SealObject(keys.metadata_key, fuzz::kVaultId, name, plain);
    FUZZ_CHECK(sealed.ok());
    for (auto& supplier : world.suppliers) {
      FUZZ_CHECK(supplier->PutObject(keys.identity_public, name, *sealed, "").ok());
    }
  }

  fuzz::RemoveTree(s.config);
  fuzz::RemoveTree(s.cache);  // cached tree blocks of the last input must not be reused
  vault::KeyRecord record;
  record.set_version(1);
  record.set_vault_id(fuzz::kVaultId);
  auto v = customer::Vault::Create(s.config, s.cache, Config(), record, kMaster);
  FUZZ_CHECK(v.ok());
  auto repo = customer::Repository::Open(std::move(*v), world.Connector());
  FUZZ_CHECK(repo.ok());
  FUZZ_CHECK((*repo)->LoadIndex().ok());
  auto snaps = (*repo)->LoadSnapshots();
  FUZZ_CHECK(snaps.ok() && snaps->size() == 1);

  customer::Progress progress;
  customer::RestoreOptions options;
  options.target = s.target;
  options.block_workers = 2;
  auto result = customer::RunRestore(**repo, snaps->front(), options, progress);
  (void)result;  // a result with errors, or an error: both fine
  CheckOutsideUntouched(s);
  fuzz::RemoveTree(s.target);
  return 0;
}
