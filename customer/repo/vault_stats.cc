#include "customer/repo/vault_stats.h"

namespace shardkeep::customer {

absl::StatusOr<VaultStats> ComputeVaultStats(Repository& repo) {
  RETURN_IF_ERROR(repo.CheckSuppliers(1));
  RETURN_IF_ERROR(repo.LoadIndex());
  ASSIGN_OR_RETURN(std::vector<vault::v1::Snapshot> snapshots, repo.LoadSnapshots());

  VaultStats st;
  st.n = repo.n();
  st.k = repo.k();
  st.snapshots = snapshots.size();
  for (const auto& s : snapshots) st.total_logical_bytes += s.summary().bytes_total();
  if (!snapshots.empty()) {
    const auto& m = snapshots.back().summary();
    st.latest_logical_bytes = m.bytes_total();
    st.files_latest = m.files_new() + m.files_changed() + m.files_unchanged();
  }

  st.suppliers.resize(st.n);
  for (int i = 0; i < st.n; ++i) {
    st.suppliers[i].position = i;
    st.suppliers[i].address = repo.suppliers().address(i);
  }
  const VaultIndex& index = repo.index();
  st.chunks = index.chunk_count();
  st.blocks = index.block_count();
  for (uint32_t b = 0; b < index.block_count(); ++b) {
    const vault::v1::BlockRecord& rec = index.block(b);
    (rec.kind() == vault::v1::BLOCK_KIND_TREE ? st.tree_blocks : st.data_blocks)++;
    st.stored_bytes += rec.sealed_size();
    for (int i = 0; i < st.n && i < 64; ++i) {
      if ((rec.stored_mask() >> i & 1) == 0) continue;
      st.stored_with_redundancy_bytes += rec.fragment_size();
      st.suppliers[i].indexed_bytes += rec.fragment_size();
      st.suppliers[i].indexed_fragments++;
    }
  }

  std::vector<absl::StatusOr<v1::Contract>> contracts = repo.Contracts();
  for (int i = 0; i < st.n; ++i) {
    SupplierUsage& u = st.suppliers[i];
    if (!contracts[i].ok()) {
      u.error = std::string(contracts[i].status().message());
      continue;
    }
    u.reachable = true;
    u.quota_bytes = contracts[i]->quota_bytes();
    u.used_bytes = contracts[i]->used_bytes();
    u.fragments = contracts[i]->fragments();
    u.objects = contracts[i]->objects();
  }
  return st;
}

}  // namespace shardkeep::customer
