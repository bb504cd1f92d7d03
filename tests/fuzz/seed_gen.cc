// Writes the seed corpora of the fuzz targets added with docs/FUZZING.md,
// using the real encoders (SealObject, BlockBuilder, WrapMasterKey,
// SerializeTree, signing::SignAuth, a real supplier Store), so every seed is
// a genuine input that gets deep into its target. Run it again when a format
// changes:
//   bazel build //tests/fuzz:seed_gen &&
//   bazel-out/k8-fastbuild/bin/tests/fuzz/seed_gen tests/fuzz/seeds
// Sealed seeds use random nonces, so each run writes different bytes.
// Regression seeds (names starting "regress-") are the inputs of fixed bugs,
// made by hand or by a fuzzer; seed_gen leaves them alone.
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/compress.h"
#include "common/crypto.h"
#include "customer/vault/block.h"
#include "customer/vault/keys.h"
#include "customer/vault/objects.h"
#include "customer/repo/tree_node.h"
#include "customer/vault/wire.h"
#include "glog/logging.h"
#include "proto/signing.h"
#include "proto/vault.pb.h"
#include "rocksdb/db.h"
#include "supplier/clock.h"
#include "supplier/fragment_files.h"
#include "supplier/store.h"
#include "tests/fuzz/fuzz_requests.h"
#include "tests/fuzz/fuzz_store.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace customer = shardkeep::customer;
namespace crypto = shardkeep::crypto;
namespace fuzz = shardkeep::fuzz;
namespace signing = shardkeep::signing;
namespace supplier = shardkeep::supplier;
namespace vault = shardkeep::vault::v1;
namespace v1 = shardkeep::v1;
using fuzz::PutField;

std::string g_root;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  const std::string dir = g_root + "/" + target;
  mkdir(dir.c_str(), 0755);
  FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
  CHECK(f != nullptr) << dir << "/" << name;
  CHECK_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

std::string Byte(int b) { return std::string(1, static_cast<char>(b)); }
std::string U64(uint64_t v) {
  std::string s;
  customer::PutU64(&s, v);
  return s;
}

vault::VaultConfig Config(int n, int k) {
  vault::VaultConfig c;
  c.set_version(1);
  c.set_vault_id(fuzz::kVaultId);
  c.set_supplier_count(n);
  c.set_data_shards(k);
  c.set_block_size(8 << 20);
  c.mutable_chunker()->set_min_size(256 << 10);
  c.mutable_chunker()->set_avg_size(1 << 20);
  c.mutable_chunker()->set_max_size(4 << 20);
  c.set_compression_level(3);
  for (int i = 0; i < n; ++i) {
    auto* s = c.add_suppliers();
    s->set_address("127.0.0.1:" + std::to_string(7000 + i));
    s->set_supplier_id(std::string(16, static_cast<char>('a' + i)));
    s->set_position(i);
    s->set_quota_bytes(1 << 30);
  }
  c.set_needed_bytes(uint64_t{2} << 30);
  c.set_created_ms(fuzz::kNowMs);
  c.set_customer_key(crypto::Ed25519PublicKey(fuzz::kCustomerSeed));
  return c;
}

vault::Snapshot Snap(char id, int64_t time_ns) {
  vault::Snapshot s;
  s.set_id(std::string(16, id));
  s.set_time_ns(time_ns);
  s.set_hostname("host");
  s.set_username("ann");
  s.add_paths("/home/ann");
  s.add_tags("nightly");
  auto* r = s.add_root();
  r->set_id(std::string(32, 'r'));
  r->set_length(300);
  s.mutable_summary()->set_files_new(3);
  s.add_index_objects("index/" + crypto::ToHex(s.id()) + ".0");
  s.set_program("shardkeep 0.1");
  return s;
}

vault::BlockRecord Record(char id, int chunks, char first_chunk) {
  vault::BlockRecord b;
  b.set_block_id(std::string(16, id));
  b.set_kind(vault::BLOCK_KIND_DATA);
  b.set_sealed_size(1 << 20);
  b.set_fragment_size(1 << 19);
  for (int i = 0; i < 4; ++i) b.add_fragment_sha256(crypto::Sha256(std::string(1, 'a' + i)));
  b.set_stored_mask(0xf);
  for (int i = 0; i < chunks; ++i) {
    auto* c = b.add_chunks();
    c->set_id(std::string(32, static_cast<char>(first_chunk + i)));
    c->set_offset(i * 1000);
    c->set_length(1000);
    c->set_raw_length(i % 2 ? 4000 : 1000);
    c->set_compressed(i % 2);
  }
  return b;
}

std::string PlainBlock(bool tree) {
  customer::BlockBuilder b(tree ? vault::BLOCK_KIND_TREE : vault::BLOCK_KIND_DATA,
                           std::string(16, 'b'), 0);
  const std::string raw = "not very compressible: 8f3a1c";
  b.Add(crypto::Sha256(raw), raw, raw.size(), false);
  const std::string text(3000, 'z');
  std::string frame;
  CHECK(shardkeep::compress::CompressIfSmaller(text, 3, &frame));
  b.Add(crypto::Sha256(text), frame, text.size(), true);
  return b.Finish();
}

void CustomerSeeds() {
  // object_open: sealed objects, and the bodies inside them.
  const std::string config = Config(4, 2).SerializeAsString();
  const std::string piece = [] {
    vault::IndexPiece p;
    p.set_version(1);
    *p.add_blocks() = Record('A', 3, 'a');
    return p.SerializeAsString();
  }();
  const std::string snap = Snap('s', 1700000000000000000).SerializeAsString();
  struct Obj {
    int name_byte;
    std::string name, plain, file;
  } objects[] = {
      {0, customer::kConfigObject, config, "config"},
      {1, std::string(customer::kSnapshotPrefix) + std::string(32, 'a'), snap, "snapshot"},
      {2, std::string(customer::kIndexPrefix) + std::string(32, 'a') + ".0", piece, "index"},
      {3, std::string(customer::kIndexPrefix) + std::string(32, 'a') + ".1", std::string(5000, 'q'),
       "zstd"},
  };
  for (const Obj& o : objects) {
    auto sealed = customer::SealObject(fuzz::kMetadataKey, fuzz::kVaultId, o.name, o.plain);
    CHECK(sealed.ok());
    Write("object_open", "sealed-" + o.file, Byte(0) + Byte(o.name_byte) + *sealed);
    // The body: open the real envelope with the key.
    std::string aad = "shardkeep/v1/object";
    aad.push_back('\0');
    aad += fuzz::kVaultId + o.name;
    std::string body;
    CHECK(
        crypto::AeadOpen(fuzz::kMetadataKey, sealed->substr(4, 12), aad, sealed->substr(16), &body)
            .ok());
    Write("object_open", "body-" + o.file, Byte(1) + Byte(o.name_byte) + body);
  }

  // block: sealed, plaintext, builder chunks.
  for (bool tree : {false, true}) {
    const std::string plain = PlainBlock(tree);
    auto sealed = customer::SealBlock(fuzz::kBlockKey, std::string(16, 'b'), plain);
    CHECK(sealed.ok());
    Write("block", tree ? "sealed-tree" : "sealed-data", Byte(0) + std::string(16, 'b') + *sealed);
    Write("block", tree ? "plain-tree" : "plain-data", Byte(1) + plain);
  }
  {
    std::string in = Byte(2) + Byte(0);
    PutField(&in, "a raw chunk");
    PutField(&in, std::string(2000, 'c'));
    PutField(&in, "");
    Write("block", "builder", in);
  }

  // key_record: cheap Argon2id parameters so the fuzzer can unwrap it.
  {
    const std::string master(32, 'm');
    const auto keys = customer::DeriveKeys(master, fuzz::kVaultId);
    customer::KdfParams cheap{1, 8, 1};
    auto rec = customer::WrapMasterKey(master, fuzz::kVaultId, fuzz::kPassphrase, cheap,
                                       keys.identity_public);
    CHECK(rec.ok());
    Write("key_record", "cheap", rec->SerializeAsString());
    vault::KeyRecord no_key = *rec;
    no_key.clear_customer_key();
    Write("key_record", "no-customer-key", no_key.SerializeAsString());
  }

  // vault_config
  Write("vault_config", "n4k2", config);
  Write("vault_config", "n2k1", Config(2, 1).SerializeAsString());
  Write("vault_config", "n64k32", Config(64, 32).SerializeAsString());

  // index_piece: two pieces, overlapping blocks and chunks.
  {
    vault::IndexPiece a, b;
    a.set_version(1);
    *a.add_blocks() = Record('A', 3, 'a');
    *a.add_blocks() = Record('B', 2, 'b');  // chunk 'b' also in block A: first wins
    b.set_version(1);
    *b.add_blocks() = Record('B', 1, 'x');  // block B again: skipped
    *b.add_blocks() = Record('C', 2, 'y');
    std::string in;
    PutField(&in, a.SerializeAsString());
    PutField(&in, b.SerializeAsString());
    Write("index_piece", "two-pieces", in);
  }

  // snapshot: specs against a few records.
  for (const std::string spec : {"latest", "7373", "7474747474747474747474747474747", "73"}) {
    std::string in;
    PutField(&in, spec);
    PutField(&in, Snap('s', 2).SerializeAsString());
    PutField(&in, Snap('t', 1).SerializeAsString());
    PutField(&in, Snap('u', 3).SerializeAsString());
    Write("snapshot", "spec-" + std::to_string(spec.size()), in);
  }

  // tree: every node type, nesting, a symlink pointing out, hard links.
  {
    vault::Tree t;
    auto node = [&](const std::string& name, vault::NodeType type) {
      vault::TreeNode* n = t.add_nodes();
      n->set_name(name);
      n->set_type(type);
      n->set_mode(type == vault::NODE_TYPE_DIR ? 0755 : 0644);
      n->set_mtime_ns(1700000000123456789);
      n->set_inode(t.nodes_size());
      n->set_nlink(1);
      return n;
    };
    node("dir", vault::NODE_TYPE_DIR);
    auto* f = node("file", vault::NODE_TYPE_FILE);
    f->set_size(5000);
    auto* c = f->add_content();
    c->set_offset(4096);
    c->set_id(std::string(32, 'c'));
    c->set_length(10);
    auto* x = f->add_xattrs();
    x->set_name("user.note");
    x->set_value("hi");
    node("link", vault::NODE_TYPE_SYMLINK)->set_symlink_target("../../outside");
    node("inside-link", vault::NODE_TYPE_FILE);
    node("fifo", vault::NODE_TYPE_FIFO);
    auto* h = node("hard", vault::NODE_TYPE_FILE);
    h->set_nlink(2);
    node("..", vault::NODE_TYPE_DIR);
    node("a/b", vault::NODE_TYPE_FILE);
    Write("tree", "all-types", customer::SerializeTree(t));
  }

  // restore: a root tree with a directory (its subtree is the second tree),
  // a file whose content is the data chunk, a symlink and a FIFO.
  {
    const std::string root_id(32, 'R'), sub_id(32, 'S'), data_id(32, 'D');
    vault::Tree sub;
    auto* f = sub.add_nodes();
    f->set_name("hello.txt");
    f->set_type(vault::NODE_TYPE_FILE);
    f->set_mode(0644);
    f->set_size(10);
    f->set_nlink(1);
    auto* c = f->add_content();
    c->set_id(data_id);
    c->set_length(10);
    auto* l = sub.add_nodes();
    l->set_name("up");
    l->set_type(vault::NODE_TYPE_SYMLINK);
    l->set_symlink_target("../../outside");
    const std::string sub_bytes = customer::SerializeTree(sub);
    vault::Tree root;
    auto* d = root.add_nodes();
    d->set_name("home");
    d->set_type(vault::NODE_TYPE_DIR);
    d->set_mode(0755);
    auto* ref = d->add_subtree();
    ref->set_id(sub_id);
    ref->set_length(sub_bytes.size());
    auto* p = root.add_nodes();
    p->set_name("pipe");
    p->set_type(vault::NODE_TYPE_FIFO);
    p->set_mode(0600);
    std::string in;
    PutField(&in, customer::SerializeTree(root));
    PutField(&in, sub_bytes);
    Write("restore", "home", in);
  }
}

void SupplierSeeds() {
  const auto& types = fuzz::AuthRequestTypes();
  // One realistic request of every type, signed at kNowMs by the fuzzing customer.
  const std::string data = "fragment bytes";
  std::vector<std::unique_ptr<google::protobuf::Message>> reqs;
  for (const auto& t : types) reqs.push_back(t.make());
  {
    auto* r = static_cast<v1::ContractRequest*>(reqs[0].get());
    r->set_needed_bytes(1 << 20);
    r->set_position(1);
    r->set_supplier_count(4);
  }
  {
    auto* h = static_cast<v1::FragmentHeader*>(reqs[4].get());
    h->set_key(std::string(32, 'a') + ".1");
    h->set_size(data.size());
    h->set_sha256(crypto::Sha256(data));
  }
  static_cast<v1::GetFragmentRequest*>(reqs[5].get())->set_key(std::string(32, 'a') + ".1");
  {
    auto* r = static_cast<v1::ListFragmentsRequest*>(reqs[6].get());
    r->set_prefix("a");
    r->set_page_size(10);
  }
  static_cast<v1::DeleteFragmentsRequest*>(reqs[7].get())->add_keys(std::string(32, 'a') + ".1");
  {
    auto* r = static_cast<v1::AuditRequest*>(reqs[8].get());
    r->set_key(std::string(32, 'a') + ".1");
    r->set_nonce(std::string(16, 'n'));
  }
  {
    auto* r = static_cast<v1::PutObjectRequest*>(reqs[9].get());
    r->set_name("keys");
    r->set_data("key record");
    r->set_vault_id(fuzz::kVaultId);
  }
  static_cast<v1::GetObjectRequest*>(reqs[10].get())->set_name("keys");
  {
    auto* r = static_cast<v1::ListObjectsRequest*>(reqs[11].get());
    r->set_prefix("snapshots/");
    r->set_start_after("snapshots/0");
  }
  static_cast<v1::DeleteObjectsRequest*>(reqs[12].get())->add_names("snapshots/0");
  for (size_t i = 0; i < types.size(); ++i) {
    std::string nonce(signing::kNonceSize, static_cast<char>('A' + i));
    nonce[15] = 'S';  // supplier_request's own nonces end in 'F'
    signing::SignAuth(types[i].method, fuzz::kSupplierId, fuzz::kCustomerSeed, *reqs[i],
                      fuzz::kNowMs, nonce, fuzz::MutableAuth(reqs[i].get()));
    const std::string body = reqs[i]->SerializeAsString();
    const std::string method = types[i].method;
    const std::string name = method.substr(method.rfind('/') + 1);
    Write("signing", name, Byte(static_cast<int>(i)) + Byte(0) + body);
    // supplier_request: as signed (flags 0), and re-signed by the harness (flags 1).
    std::string in = Byte(static_cast<int>(i)) + Byte(0) + U64(0);
    PutField(&in, body);
    if (i == 4) in += data;
    Write("supplier_request", name, in);
    in[1] = 1 | (i == 4 ? 4 : 0);
    Write("supplier_request", name + "-resigned", in);
  }
  {
    std::string in = Byte(static_cast<int>(types.size())) + Byte(0) + U64(0);
    PutField(&in, "");
    Write("supplier_request", "Info", in);
    v1::GetKeyRecordRequest r;
    r.set_vault_id(fuzz::kVaultId);
    in = Byte(static_cast<int>(types.size() + 1)) + Byte(0) + U64(0);
    PutField(&in, r.SerializeAsString());
    Write("supplier_request", "GetKeyRecord", in);
  }

  // store_records: the records of a real Store after real use, as the
  // harness's entry list (kind, key, value / file ID, bytes).
  {
    class Clock : public supplier::Clock {
     public:
      int64_t NowMs() override { return fuzz::kNowMs; }
    } clock;
    const std::string scratch = fuzz::MakeScratchDir("seed-gen");
    const std::string dir = scratch + "/data";
    {
      supplier::StoreOptions o;
      o.capacity_bytes = 64 << 20;
      o.clock = &clock;
      o.direct_io = false;
      auto store = supplier::Store::Open(dir, std::move(o));
      CHECK(store.ok()) << store.status();
      const std::string who = crypto::Ed25519PublicKey(fuzz::kCustomerSeed);
      CHECK((*store)->RequestContract(who, 1 << 20, 0, 4).ok());
      for (const std::string key : {"aaaa.0", "bbbb.1"}) {
        auto begin = (*store)->BeginFragment(who, key, data.size(), crypto::Sha256(data));
        CHECK(begin.ok() && begin->upload);
        CHECK(begin->upload->Append(data).ok());
        bool already = false;
        CHECK(begin->upload->Commit(&already).ok());
      }
      CHECK((*store)->PutObject(who, "keys", "key record", fuzz::kVaultId).ok());
      CHECK((*store)->PutObject(who, "snapshots/00", "snapshot", "").ok());
      CHECK((*store)->RememberNonce(fuzz::kNowMs, who, std::string(16, 'n')).ok());
    }
    std::string in;
    {
      rocksdb::DB* db = nullptr;
      std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
      for (const auto& n : fuzz::StoreColumnFamilies())
        cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      CHECK(
          rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir + "/db", cfs, &handles, &db).ok());
      for (size_t cf = 0; cf < handles.size(); ++cf) {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[cf]));
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
          in += Byte(static_cast<int>(cf));
          PutField(&in, it->key().ToString());
          PutField(&in, it->value().ToString());
        }
      }
      for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
      delete db;
    }
    auto files = supplier::NewPosixFragmentFiles(dir + "/fragments", false);
    CHECK(files.ok());
    auto ids = (*files)->List();
    CHECK(ids.ok());
    for (const std::string& id : *ids) {
      auto r = (*files)->Open(id);
      CHECK(r.ok());
      std::string bytes;
      CHECK((*r)->ReadAt(0, (*r)->size(), &bytes).ok());
      in += Byte(6) + id;
      PutField(&in, bytes);
    }
    Write("store_records", "real-store", in);
    fuzz::RemoveTree(scratch);
  }

  // units
  const char* sizes[] = {"500GiB", "1.5GiB", "4096", "10G", " 2 TB ", "0.5KiB", "1kB"};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
    Write("units", "size-" + std::to_string(i), Byte(0) + sizes[i]);
  }
  const char* durations[] = {"30d", "250ms", "1.5h", "10m", "0s"};
  for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); ++i) {
    Write("units", "duration-" + std::to_string(i), Byte(1) + durations[i]);
  }
  Write("units", "written", Byte(2) + U64(uint64_t{3} << 31) + Byte(1) + Byte(18));
}

}  // namespace

int main(int argc, char** argv) {
  FLAGS_logtostderr = true;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SEEDS_DIR (tests/fuzz/seeds)\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  CustomerSeeds();
  SupplierSeeds();
  return 0;
}
