#include "customer/repo/repository.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/strings/str_join.h"
#include "common/error_kind.h"
#include "common/crypto.h"
#include "customer/vault/block.h"
#include "customer/vault/objects.h"

namespace shardkeep::customer {
namespace {
constexpr size_t kBlockCacheEntries = 4;

// Keeps a copy in the cache. Best effort: the cache can always be fetched
// again, so a full disk or a missing dir only costs a later download.
void WriteCacheFile(const std::string& path, const std::string& data) {
  if (MakeDirs(path.substr(0, path.find_last_of('/')), 0700).ok()) {
    WriteFileAtomically(path, data, 0600).IgnoreError();
  }
}

// A listed object that no supplier serves a valid copy of (GetListedObject
// warned about it): skipped. Unreachable suppliers are an error instead.
bool IsSkippable(const absl::Status& s) {
  return absl::IsNotFound(s) && KindOf(s) != ErrorKind::kSuppliersUnreachable;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Repository>> Repository::Open(std::unique_ptr<Vault> vault,
                                                             const SupplierConnector& connector,
                                                             SupplierSet::Options options) {
  auto repo = std::unique_ptr<Repository>(new Repository());
  ASSIGN_OR_RETURN(
      repo->suppliers_,
      SupplierSet::Connect(vault->config(), vault->keys().identity_seed, connector, options));
  ASSIGN_OR_RETURN(repo->codec_, raid::Codec::Create(vault->config().supplier_count(),
                                                     vault->config().data_shards()));
  repo->vault_ = std::move(vault);
  return repo;
}

absl::Status Repository::CheckSuppliers(int min_reachable) {
  std::vector<std::string> ids;
  for (const auto& s : config().suppliers()) ids.push_back(s.supplier_id());
  RETURN_IF_ERROR(suppliers_->CheckReachable(min_reachable, ids));
  PushPendingKeyRecords();
  return absl::OkStatus();
}

std::vector<absl::StatusOr<v1::Contract>> Repository::Contracts() {
  std::vector<absl::StatusOr<v1::Contract>> out(
      n(), absl::UnavailableError("not asked"));
  std::vector<std::thread> threads;
  for (int i = 0; i < n(); ++i) {
    if (suppliers_->IsDown(i)) {
      out[i] = absl::UnavailableError(absl::StrCat(suppliers_->address(i), ": marked down"));
      continue;
    }
    threads.emplace_back([this, &out, i] { out[i] = suppliers_->at(i)->GetContract(); });
  }
  for (auto& t : threads) t.join();
  return out;
}

std::vector<std::string> Repository::CheckLeases(
    const std::vector<absl::StatusOr<v1::Contract>>& contracts, int64_t now_ms, int64_t within_ms) {
  std::vector<std::string> out;
  for (int i = 0; i < n(); ++i) {
    if (suppliers_->IsDown(i)) continue;
    const absl::StatusOr<v1::Contract>& contract = contracts[i];
    if (!contract.ok()) {
      if (absl::IsNotFound(contract.status()) || absl::IsPermissionDenied(contract.status())) {
        out.push_back(absl::StrCat("supplier ", suppliers_->address(i), " (position ", i,
                                   ") has no contract for this vault: ",
                                   contract.status().message()));
      }
      continue;
    }
    const int64_t until = contract->lease_expires_ms();
    if (until > 0 && until < now_ms + within_ms) {
      out.push_back(absl::StrCat(
          "supplier ", suppliers_->address(i), " (position ", i, ") keeps this vault's data only until ",
          absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(until), absl::UTCTimeZone()),
          " (its lease term is short): back up or run any command before then, or replace it"));
    }
  }
  return out;
}

void Repository::PushPendingKeyRecords() {
  vault::v1::SeenState seen = vault_->LoadSeen();
  if (seen.key_record_pending_size() == 0) return;
  const std::string record = vault_->key_record().SerializeAsString();
  std::vector<uint32_t> still;
  for (uint32_t pos : seen.key_record_pending()) {
    if (pos >= static_cast<uint32_t>(n())) continue;
    absl::Status s = suppliers_->IsDown(pos)
                         ? absl::UnavailableError("down")
                         : suppliers_->at(pos)->PutObject(kKeysObject, record, vault_->vault_id());
    if (s.ok()) {
      Warn(absl::StrCat("supplier ", suppliers_->address(pos),
                        " missed the last `key passwd`: it has the current key record now"));
    } else {
      still.push_back(pos);
    }
  }
  seen.clear_key_record_pending();
  for (uint32_t pos : still) seen.add_key_record_pending(pos);
  vault_->SaveSeen(seen).IgnoreError();
}

void Repository::Warn(const std::string& message) const {
  if (warn_) {
    warn_(message);
  } else {
    fprintf(stderr, "warning: %s\n", message.c_str());
  }
}

std::string Repository::Addresses(uint64_t positions) const {
  std::vector<std::string> out;
  for (int i = 0; i < suppliers_->n(); ++i) {
    if ((positions >> i) & 1) out.push_back(suppliers_->address(i));
  }
  return absl::StrJoin(out, ", ");
}

absl::StatusOr<std::vector<std::string>> Repository::ListNames(
    const std::string& prefix, ObjectKind kind, std::map<std::string, uint64_t>* listed_by) {
  std::vector<bool> was_down(suppliers_->n());
  for (int i = 0; i < suppliers_->n(); ++i) was_down[i] = suppliers_->IsDown(i);
  ASSIGN_OR_RETURN(std::vector<std::string> listed,
                   suppliers_->ListObjectsUnion(prefix, listed_by));
  for (int i = 0; i < suppliers_->n(); ++i) {
    if (!was_down[i] && suppliers_->IsDown(i)) {
      Warn(absl::StrCat("supplier ", suppliers_->address(i), ": listing ", prefix,
                        " failed, going on without it: ", suppliers_->DownReason(i).message()));
    }
  }
  std::vector<std::string> names;
  for (auto& name : listed) {
    ObjectName parsed;
    if (!ParseObjectName(name, &parsed) || parsed.kind != kind) {
      // A supplier's listing is untrusted: such a name never reaches a path.
      Warn(absl::StrCat("skipping object \"", PrintableName(name), "\" listed by ",
                        Addresses((*listed_by)[name]), ": not a name this vault uses"));
      continue;
    }
    names.push_back(std::move(name));
  }
  return names;
}

absl::StatusOr<std::string> Repository::GetListedObject(const std::string& name,
                                                        uint64_t listed_by_mask) {
  auto plain = GetObjectCached(name);
  if (plain.ok() || !absl::IsNotFound(plain.status()) ||
      KindOf(plain.status()) == ErrorKind::kSuppliersUnreachable) {
    return plain;
  }
  Warn(absl::StrCat("skipping object ", name, " listed by ", Addresses(listed_by_mask),
                    ": no supplier serves a valid copy"));
  return plain;
}

absl::StatusOr<std::string> Repository::GetObjectCached(const std::string& name) {
  ASSIGN_OR_RETURN(std::string path, ObjectCachePath(vault_->cache_path(), name));
  auto cached = ReadWholeFile(path);
  if (cached.ok()) {
    auto plain = vault_->OpenObject(name, *cached);
    if (plain.ok()) return plain;
  }
  std::string plaintext;
  ASSIGN_OR_RETURN(std::string sealed,
                   suppliers_->GetObjectAny(name, [&](const std::string& data) -> absl::Status {
                     auto p = vault_->OpenObject(name, data);
                     if (!p.ok()) return p.status();
                     plaintext = std::move(*p);
                     return absl::OkStatus();
                   }));
  WriteCacheFile(path, sealed);
  return plaintext;
}

absl::StatusOr<std::string> Repository::GetObjectFresh(const std::string& name) {
  std::string plaintext;
  ASSIGN_OR_RETURN(std::string sealed,
                   suppliers_->GetObjectAny(name, [&](const std::string& data) -> absl::Status {
                     auto p = vault_->OpenObject(name, data);
                     if (!p.ok()) return p.status();
                     plaintext = std::move(*p);
                     return absl::OkStatus();
                   }));
  return plaintext;
}

std::vector<int> Repository::DeleteObjects(const std::vector<std::string>& names) {
  std::vector<int> failed;
  if (names.empty()) return failed;
  std::vector<absl::Status> result(n(), absl::OkStatus());
  std::vector<std::thread> threads;
  for (int i = 0; i < n(); ++i) {
    if (suppliers_->IsDown(i)) {
      result[i] = absl::UnavailableError("down");
      continue;
    }
    threads.emplace_back([this, &result, &names, i] {
      result[i] = suppliers_->at(i)->DeleteObjects(names);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n(); ++i) {
    if (!result[i].ok()) failed.push_back(i);
  }
  // The cached copies go too (locks have none).
  for (const auto& name : names) {
    auto path = ObjectCachePath(vault_->cache_path(), name);
    if (path.ok()) unlink(path->c_str());
  }
  return failed;
}

absl::Status Repository::PutObject(const std::string& name, const std::string& plaintext,
                                   bool cache) {
  ASSIGN_OR_RETURN(std::string sealed, vault_->SealObject(name, plaintext));
  RETURN_IF_ERROR(suppliers_->PutObjectEverywhere(name, sealed, CommitThreshold(n(), k())));
  if (cache) {
    ASSIGN_OR_RETURN(std::string path, ObjectCachePath(vault_->cache_path(), name));
    WriteCacheFile(path, sealed);
  }
  return absl::OkStatus();
}

absl::Status Repository::LoadIndex() {
  std::map<std::string, uint64_t> listed_by;
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   ListNames(kIndexPrefix, ObjectKind::kIndexPiece, &listed_by));
  if (!index_opened_) {
    index_opened_ = true;
    if (!vault_->cache_dir().empty()) {
      const std::string dir = vault_->cache_path() + "/index.db";
      if (MakeDirs(vault_->cache_path(), 0700).ok()) {
        const std::string note = index_.OpenStore(dir);
        if (!note.empty()) Warn(note);
      }
    }
  }
  auto parse = [&](const std::string& name, vault::v1::IndexPiece* piece) -> absl::Status {
    auto got = GetListedObject(name, listed_by[name]);
    if (!got.ok()) return got.status();
    if (!piece->ParseFromString(*got)) {
      return absl::DataLossError(absl::StrCat("index piece ", name, " does not parse"));
    }
    return absl::OkStatus();
  };

  // The local store is caught up, never trusted over the listing: a piece
  // it applied that no supplier lists any more (deleted by a prune, here or
  // on another machine, or lost) may name blocks that are gone, so the store
  // is rebuilt without it and its chunks are stored again when needed.
  // Quietly: after a prune this is the normal case (the new epoch's pieces
  // come from the piece cache or the suppliers, as on a new machine).
  const std::set<std::string> listed(names.begin(), names.end());
  std::map<std::string, VaultIndex::PieceMeta> known = index_.Pieces();
  std::vector<std::string> gone;
  bool rebuild = false;
  for (const auto& [name, meta] : known) {
    if (listed.count(name)) continue;
    gone.push_back(name);
    rebuild = rebuild || meta.applied;
  }
  index_.ForgetPieces(gone);
  if (rebuild) {
    index_.Reset(VaultIndex::kNoEpoch);
    known = index_.Pieces();
  }

  // One pass reads the pieces the store does not know yet (nearly always
  // only those the last commands of other machines wrote) and applies those
  // of the epoch being applied. The epoch to load is known only at the end,
  // when every base piece has been counted; a second pass (from the cache)
  // is needed only if it is another one.
  uint64_t applying = index_.epoch();
  for (const auto& name : names) {
    if (known.count(name)) continue;
    vault::v1::IndexPiece piece;
    absl::Status s = parse(name, &piece);
    if (IsSkippable(s)) continue;
    RETURN_IF_ERROR(s);
    if (applying == VaultIndex::kNoEpoch || piece.epoch() > applying) {
      index_.Reset(piece.epoch());  // records the epoch in the store
      applying = piece.epoch();
    }
    if (piece.epoch() == applying) {
      RETURN_IF_ERROR(index_.ApplyPiece(name, piece));
    } else {
      RETURN_IF_ERROR(index_.NotePiece(name, piece));
    }
    known[name] = {piece.epoch(), piece.base_pieces(), piece.epoch() == applying};
  }
  // (epoch, prune ID) -> declared base count and the base pieces present.
  std::map<std::pair<uint64_t, std::string>, std::pair<uint32_t, std::set<uint32_t>>> bases;
  for (const auto& [name, meta] : known) {
    if (meta.base_pieces == 0) continue;
    ObjectName parsed;
    if (!ParseObjectName(name, &parsed)) continue;
    auto& base = bases[{meta.epoch, parsed.id}];
    if (base.first == 0 || base.first == meta.base_pieces) {
      base.first = meta.base_pieces;
      base.second.insert(parsed.piece);
    }
  }
  uint64_t current = 0;  // epoch 0 (pieces from before epochs) needs no base
  for (const auto& [key, base] : bases) {
    const auto& [count, present] = base;
    if (present.size() == count && *present.rbegin() == count - 1) {
      current = std::max(current, key.first);
    }
  }
  if (current != applying) index_.Reset(current);
  for (const auto& [name, meta] : index_.Pieces()) {
    if (meta.epoch != current || meta.applied) continue;
    vault::v1::IndexPiece piece;
    absl::Status s = parse(name, &piece);
    if (IsSkippable(s)) continue;
    RETURN_IF_ERROR(s);
    RETURN_IF_ERROR(index_.ApplyPiece(name, piece));
  }
  index_epoch_ = current;
  highest_index_epoch_ = current;
  index_pieces_.clear();
  stale_index_pieces_.clear();
  for (const auto& [name, meta] : index_.Pieces()) {
    highest_index_epoch_ = std::max(highest_index_epoch_, meta.epoch);
    (meta.epoch == current ? index_pieces_ : stale_index_pieces_).push_back(name);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<vault::v1::Snapshot>> Repository::LoadSnapshots() {
  // Tombstones first: a record that has one is not even fetched.
  forgotten_.clear();
  forgotten_still_listed_.clear();
  {
    std::map<std::string, uint64_t> tomb_listed_by;
    ASSIGN_OR_RETURN(std::vector<std::string> tombs,
                     ListNames(kForgottenPrefix, ObjectKind::kForgotten, &tomb_listed_by));
    for (const auto& name : tombs) {
      auto got = GetListedObject(name, tomb_listed_by[name]);
      if (IsSkippable(got.status())) continue;
      ASSIGN_OR_RETURN(std::string plain, std::move(got));
      vault::v1::Forgotten f;
      if (!f.ParseFromString(plain) || f.snapshot_id().size() != kNameIdSize ||
          ForgottenObjectName(f.snapshot_id()) != name) {
        return absl::DataLossError(absl::StrCat("tombstone ", name, " does not parse"));
      }
      forgotten_[f.snapshot_id()] = std::move(f);
    }
  }
  // Which positions list each name: rollback detection names the suppliers
  // that leave out what the others list.
  std::map<std::string, uint64_t> listed_by_name;
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   ListNames(kSnapshotPrefix, ObjectKind::kSnapshot, &listed_by_name));
  uint64_t answered = 0;  // the positions whose listing came back
  for (int i = 0; i < n() && i < 64; ++i) {
    if (!suppliers_->IsDown(i)) answered |= uint64_t{1} << i;
  }
  std::vector<vault::v1::Snapshot> out;
  std::map<std::string, uint64_t> listed_by;  // by snapshot ID
  for (const auto& name : names) {
    ObjectName parsed;
    ParseObjectName(name, &parsed);  // ListNames kept only names that parse
    if (forgotten_.count(parsed.id)) {
      forgotten_still_listed_.push_back(name);
      continue;
    }
    auto got = GetListedObject(name, listed_by_name[name]);
    if (IsSkippable(got.status())) continue;
    ASSIGN_OR_RETURN(std::string plain, std::move(got));
    vault::v1::Snapshot snap;
    if (!snap.ParseFromString(plain)) {
      return absl::DataLossError(absl::StrCat("snapshot record ", name, " does not parse"));
    }
    if (snap.id().size() != kNameIdSize || SnapshotObjectName(snap.id()) != name) {
      return absl::DataLossError(absl::StrCat("snapshot record ", name, " carries another ID"));
    }
    listed_by[snap.id()] = listed_by_name[name];
    out.push_back(std::move(snap));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.time_ns() != b.time_ns() ? a.time_ns() < b.time_ns() : a.id() < b.id();
  });

  std::vector<std::string> addresses;
  for (int i = 0; i < n(); ++i) addresses.push_back(suppliers_->address(i));
  vault::v1::SeenState seen = vault_->LoadSeen();
  history_ = CheckSnapshotHistory(out, listed_by, answered, addresses, seen, forgotten_);
  for (const auto& problem : history_.problems) Warn(problem);
  if (history_.newest_sequence > seen.newest_sequence()) {
    seen.set_newest_sequence(history_.newest_sequence);
    seen.set_newest_snapshot_id(history_.newest_id);
    seen.set_newest_time_ns(history_.newest_time_ns);
    // Best effort: recover loads snapshots before the config dir exists and
    // saves the state itself afterwards.
    vault_->SaveSeen(seen).IgnoreError();
  }
  return out;
}

absl::StatusOr<vault::v1::Snapshot> Repository::OpenSnapshot(const std::string& spec) {
  RETURN_IF_ERROR(CheckSuppliers(k()));
  RETURN_IF_ERROR(LoadIndex());
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> snapshots, LoadSnapshots());
  return FindSnapshot(snapshots, spec);
}

absl::StatusOr<vault::v1::Snapshot> Repository::FindSnapshot(
    const std::vector<vault::v1::Snapshot>& snapshots, const std::string& spec) {
  if (snapshots.empty()) {
    return absl::NotFoundError("the vault has no snapshots yet");
  }
  if (spec == "latest") return snapshots.back();
  std::string want = spec;
  std::transform(want.begin(), want.end(), want.begin(), ::tolower);
  const vault::v1::Snapshot* found = nullptr;
  int matches = 0;
  for (const auto& s : snapshots) {
    std::string hex = crypto::ToHex(s.id());
    if (hex == want) return s;
    if (!want.empty() && absl::StartsWith(hex, want)) {
      found = &s;
      ++matches;
    }
  }
  if (matches == 1) return *found;
  if (matches > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot prefix ", spec, " is ambiguous (", matches, " snapshots)"));
  }
  return absl::NotFoundError(absl::StrCat("no snapshot ", spec));
}

void Repository::CacheTreeBlock(const std::string& block_id, const std::string& sealed) {
  if (block_id.size() != kNameIdSize) return;
  WriteCacheFile(TreeBlockCachePath(vault_->cache_path(), block_id), sealed);
}

absl::StatusOr<std::string> Repository::LoadBlock(uint32_t block_number) {
  const vault::v1::BlockRecord& rec = index_.block(block_number);
  const std::string& key = vault_->keys().block_key;
  bool tree = rec.kind() == vault::v1::BLOCK_KIND_TREE;
  if (tree && rec.block_id().size() == kNameIdSize) {
    std::string cache_path = TreeBlockCachePath(vault_->cache_path(), rec.block_id());
    auto cached = ReadWholeFile(cache_path);
    if (cached.ok() && cached->size() == rec.sealed_size()) {
      auto plain = OpenBlock(key, rec.block_id(), *cached);
      if (plain.ok()) return plain;
    }
  }
  std::string sealed;
  {
    // The fragments go as soon as they are decoded: a restore's memory per
    // block is then at most two blocks' worth, not three.
    ASSIGN_OR_RETURN(auto fragments, suppliers_->FetchFragments(rec));
    ASSIGN_OR_RETURN(sealed, codec_->Decode(fragments));
  }
  if (sealed.size() != rec.sealed_size()) {
    return absl::DataLossError(absl::StrCat("block ", crypto::ToHex(rec.block_id()), " decodes to ",
                                            sealed.size(), " bytes, index says ",
                                            rec.sealed_size()));
  }
  if (!tree) return OpenBlockInPlace(key, rec.block_id(), std::move(sealed));
  ASSIGN_OR_RETURN(std::string plain, OpenBlock(key, rec.block_id(), sealed));
  CacheTreeBlock(rec.block_id(), sealed);  // tree blocks are cached sealed
  return plain;
}

absl::StatusOr<std::string> Repository::LoadChunk(std::string_view chunk_id) {
  ChunkLocation loc;
  if (!index_.Find(chunk_id, &loc)) {
    return absl::DataLossError(
        absl::StrCat("chunk ", crypto::ToHex(chunk_id), " is not in the vault index"));
  }
  std::shared_ptr<const std::string> plain;
  {
    std::lock_guard<std::mutex> lock(block_cache_mu_);
    for (auto it = block_cache_.begin(); it != block_cache_.end(); ++it) {
      if (it->first == loc.block) {
        plain = it->second;
        block_cache_.splice(block_cache_.begin(), block_cache_, it);
        break;
      }
    }
  }
  if (!plain) {
    ASSIGN_OR_RETURN(std::string p, LoadBlock(loc.block));
    plain = std::make_shared<const std::string>(std::move(p));
    std::lock_guard<std::mutex> lock(block_cache_mu_);
    block_cache_.emplace_front(loc.block, plain);
    if (block_cache_.size() > kBlockCacheEntries) block_cache_.pop_back();
  }
  std::string out;
  RETURN_IF_ERROR(ExtractChunk(*plain, ToBlockChunk(chunk_id, loc), &out));
  return out;
}

absl::StatusOr<vault::v1::Tree> Repository::LoadTree(
    const google::protobuf::RepeatedPtrField<vault::v1::ChunkRef>& refs) {
  std::string bytes;
  for (const auto& r : refs) {
    ASSIGN_OR_RETURN(std::string c, LoadChunk(r.id()));
    if (c.size() != r.length()) {
      return absl::DataLossError(
          absl::StrCat("tree chunk ", crypto::ToHex(r.id()), " has the wrong length"));
    }
    bytes.append(c);
  }
  vault::v1::Tree tree;
  if (!tree.ParseFromString(bytes)) return absl::DataLossError("a tree does not parse");
  return tree;
}

}  // namespace shardkeep::customer
