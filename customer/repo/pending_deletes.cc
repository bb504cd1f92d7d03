#include "customer/repo/pending_deletes.h"

#include <unistd.h>

#include "customer/vault/vault.h"
#include "customer/vault/names.h"

namespace shardkeep::customer {
namespace {

absl::Status Save(const Repository& repo, const vault::v1::PendingDeletes& p) {
  const std::string path = PendingDeletesPath(repo.vault().cache_path());
  if (p.positions_size() == 0) {
    unlink(path.c_str());
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(MakeDirs(repo.vault().cache_path(), 0700));
  return WriteFileAtomically(path, p.SerializeAsString(), 0600);
}

}  // namespace

vault::v1::PendingDeletes LoadPendingDeletes(const Repository& repo) {
  vault::v1::PendingDeletes p;
  auto data = ReadWholeFile(PendingDeletesPath(repo.vault().cache_path()));
  if (data.ok() && !p.ParseFromString(*data)) p.Clear();  // a damaged cache file: start over
  return p;
}

void AddPendingDeletes(Repository& repo, int position, const std::vector<std::string>& fragment_keys,
                       const std::vector<std::string>& object_names) {
  if (fragment_keys.empty() && object_names.empty()) return;
  vault::v1::PendingDeletes p = LoadPendingDeletes(repo);
  vault::v1::PendingDeletes::Position* at = nullptr;
  for (auto& pos : *p.mutable_positions()) {
    if (pos.position() == static_cast<uint32_t>(position)) at = &pos;
  }
  if (at == nullptr) {
    at = p.add_positions();
    at->set_position(position);
  }
  for (const auto& k : fragment_keys) at->add_fragment_keys(k);
  for (const auto& n : object_names) at->add_object_names(n);
  Save(repo, p).IgnoreError();
}

int ApplyPendingDeletes(Repository& repo) {
  vault::v1::PendingDeletes p = LoadPendingDeletes(repo);
  if (p.positions_size() == 0) return 0;
  vault::v1::PendingDeletes left;
  int cleared = 0;
  for (const auto& pos : p.positions()) {
    const int i = static_cast<int>(pos.position());
    if (i >= repo.n()) continue;
    SupplierClient* c = repo.suppliers().at(i);
    absl::Status s = repo.suppliers().IsDown(i) ? absl::UnavailableError("down") : absl::OkStatus();
    if (s.ok()) {
      s = c->DeleteFragments({pos.fragment_keys().begin(), pos.fragment_keys().end()});
    }
    if (s.ok() && pos.object_names_size() > 0) {
      s = c->DeleteObjects({pos.object_names().begin(), pos.object_names().end()});
    }
    if (s.ok()) {
      ++cleared;
    } else {
      *left.add_positions() = pos;
    }
  }
  Save(repo, left).IgnoreError();
  return cleared;
}

}  // namespace shardkeep::customer
