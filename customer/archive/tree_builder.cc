// The tree builder stage: turns each directory, once all its files are
// chunked, into a tree, stored as chunks of its own (an unchanged directory
// gives the same chunk IDs and costs nothing).
#include "customer/archive/archiver_internal.h"

#include "common/chunker.h"
#include "common/compress.h"
#include "common/crypto.h"
#include "customer/repo/tree_node.h"

namespace shardkeep::customer::archive_internal {

void Archiver::StoreTreeBytes(const std::string& bytes,
                              google::protobuf::RepeatedPtrField<ChunkRef>* out) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t cut = chunker::NextCut(p + pos, bytes.size() - pos, params_);
    std::string_view chunk(bytes.data() + pos, cut);
    std::string id = crypto::ChunkId(chunk_key_, chunk);
    ChunkRef* ref = out->Add();
    ref->set_id(id);
    ref->set_length(static_cast<uint32_t>(cut));
    if (repo_.index().Reserve(id)) {
      PackItem item;
      item.kind = vault::v1::BLOCK_KIND_TREE;
      item.id = std::move(id);
      item.raw_length = static_cast<uint32_t>(cut);
      std::string z;
      item.compressed = compress::CompressIfSmaller(chunk, level_, &z);
      item.stored = item.compressed ? std::move(z) : std::string(chunk);
      chunks_new_++;
      bytes_new_raw_ += item.raw_length;
      bytes_stored_ += item.stored.size();
      size_t cost = item.stored.size();
      std::vector<PackItem> one;
      one.push_back(std::move(item));
      pack_q_.Push(std::move(one), cost);
    }
    pos += cut;
  }
}

void Archiver::TreeBuilderMain() {
  while (auto d = tree_q_.Pop()) {
    DirState* dir = *d;
    vault::v1::Tree tree;
    for (Entry& e : dir->entries) {
      if (e.file) {
        {
          std::unique_lock<std::mutex> lock(done_mu_);
          awaited_ = e.file.get();
          done_cv_.wait(lock, [&] { return e.file->done || aborted_; });
          awaited_ = nullptr;
          if (aborted_) return;
        }
        FileTask& f = *e.file;
        if (f.dropped) continue;
        if (f.node_refreshed) e.node = NodeToTree(f.node);
        for (const Piece& p : f.pieces) {
          auto* c = e.node.add_content();
          c->set_offset(p.offset);
          c->set_id(p.id);
          c->set_length(p.length);
        }
        (f.is_new ? files_new_ : files_changed_)++;
        bytes_total_ += f.node.size;
        e.file.reset();
      }
      if (e.subdir) {
        *e.node.mutable_subtree() = std::move(e.subdir->result);
        e.subdir.reset();
      }
      *tree.add_nodes() = std::move(e.node);
    }
    // Frees the capacity too (clear() would keep it): the DirState lives on
    // in its parent's entry until the parent is built, and a thousand-file
    // directory's entries are ~200 KB.
    std::vector<Entry>().swap(dir->entries);
    StoreTreeBytes(SerializeTree(tree), &dir->result);
  }
}


}  // namespace shardkeep::customer::archive_internal
