// The hash+compress workers: chunk IDs (keyed HMAC), dedup against the
// index, zstd where it saves space; new chunks go to the packer.
#include "customer/archive/archiver_internal.h"

#include "common/compress.h"
#include "common/crypto.h"

namespace shardkeep::customer::archive_internal {

void Archiver::WorkerMain() {
  while (auto batch = chunk_q_.Pop()) {
    std::vector<PackItem> items;
    size_t cost = 0;
    for (ChunkTask& c : *batch) {
      std::string id = crypto::ChunkId(chunk_key_, c.data);
      c.piece->id = id;
      if (!repo_.index().Reserve(id)) continue;
      PackItem item;
      item.kind = vault::v1::BLOCK_KIND_DATA;
      item.id = std::move(id);
      item.raw_length = static_cast<uint32_t>(c.data.size());
      std::string z;
      item.compressed = compress::CompressIfSmaller(c.data, level_, &z);
      item.stored = item.compressed ? std::move(z) : std::move(c.data);
      chunks_new_++;
      bytes_new_raw_ += item.raw_length;
      bytes_stored_ += item.stored.size();
      cost += item.stored.size();
      items.push_back(std::move(item));
    }
    if (!items.empty()) pack_q_.Push(std::move(items), cost);
    for (ChunkTask& c : *batch) ReleaseHold(c.file.get());
  }
}


}  // namespace shardkeep::customer::archive_internal
