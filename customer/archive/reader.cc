// The reader stage: reads each queued file (data extents only, so holes stay
// holes), cuts it into content-defined chunks and hands them to the hash
// workers in batches.
#include "customer/archive/archiver_internal.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/chunker.h"

namespace shardkeep::customer::archive_internal {

bool Archiver::Emit(const std::shared_ptr<FileTask>& t, uint64_t offset, std::string data) {
  t->pieces.push_back(Piece{offset, static_cast<uint32_t>(data.size()), {}});
  Piece* p = &t->pieces.back();
  t->pending.fetch_add(1, std::memory_order_relaxed);
  size_t cost = data.size();
  progress_.bytes += cost;
  bytes_read_ += cost;
  batch_.push_back(ChunkTask{t, p, std::move(data)});
  batch_bytes_ += cost;
  if (batch_bytes_ >= kBatchBytes || batch_.size() >= kBatchChunks) return FlushBatch();
  return true;
}

bool Archiver::FlushBatch() {
  if (batch_.empty()) return true;
  size_t cost = batch_bytes_;
  std::vector<ChunkTask> batch = std::move(batch_);
  batch_.clear();
  batch_bytes_ = 0;
  if (!chunk_q_.Push(std::move(batch), cost)) return false;  // aborted: nobody waits for them
  return true;
}

void Archiver::ReleaseHold(FileTask* t) {
  if (t->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard<std::mutex> lock(done_mu_);
    t->done = true;
    if (awaited_ == t) done_cv_.notify_all();
  }
}

void Archiver::ReaderMain() {
  for (;;) {
    std::shared_ptr<FileTask> t;
    if (!read_q_.TryPop(&t)) {
      // Nothing to read right now: hand over the chunks gathered so far
      // before blocking, or the tree builder could wait for them forever.
      if (!FlushBatch()) break;
      auto next = read_q_.Pop();
      if (!next) break;
      t = std::move(*next);
    }
    ReadFile(t);
    if (!t->dropped) progress_.files++;
    ReleaseHold(t.get());
  }
  FlushBatch();
}

void Archiver::ReadFile(const std::shared_ptr<FileTask>& t) {
  auto printable = [&] { return fs::PrintablePath(t->node.path); };
  auto r = fs::FileReader::Open(t->node);
  if (!r.ok() && absl::IsFailedPrecondition(r.status())) {
    // Replaced since it was listed: take the new file's metadata and retry once.
    auto fresh = fs::Lstat(t->node.path);
    if (fresh.ok() && fresh->type == fs::NodeType::kFile) {
      t->node = std::move(*fresh);
      t->node_refreshed = true;
      r = fs::FileReader::Open(t->node);
    }
  }
  if (!r.ok()) {
    t->dropped = true;
    if (absl::IsNotFound(r.status())) {
      Warn(absl::StrCat("vanished before it was read: ", printable()));
    } else if (absl::IsFailedPrecondition(r.status())) {
      Warn(absl::StrCat("changed while read, not saved: ", r.status().message()));
    } else {
      FileError(absl::StrCat("cannot read ", printable(), ": ", r.status().message()));
    }
    return;
  }
  fs::FileReader& reader = **r;
  std::string& buf = read_buf_;
  for (const fs::Extent& ext : reader.DataExtents()) {
    if (ext.length == 0) continue;
    uint64_t end = ext.offset + ext.length;
    if (ext.length <= params_.min_size) {
      // Small: one chunk, read straight into its own buffer.
      std::string data(ext.length, '\0');
      auto n = reader.ReadAt(ext.offset, data.data(), data.size());
      if (!n.ok()) {
        t->dropped = true;
        FileError(absl::StrCat("cannot read ", printable(), ": ", n.status().message()));
        return;
      }
      data.resize(*n);
      if (!data.empty() && !Emit(t, ext.offset, std::move(data))) return;
      continue;
    }
    // Content-defined chunks, with max_size of look-ahead so each cut is final.
    // The look-ahead buffer is the reader's, reused across files and grown
    // only to what an extent needs: a fresh 8 MiB buffer per file was zeroed
    // (and, being over malloc's mmap threshold, mapped and unmapped) for
    // every file over min_size.
    const size_t cap = static_cast<size_t>(std::min<uint64_t>(
        std::max<size_t>(2 * params_.max_size, 8 << 20), ext.length));
    if (buf.size() < cap) {
      std::string().swap(buf);  // nothing in it is needed: no old+new copy at once
      buf.resize(cap);
    }
    size_t have = 0;
    uint64_t base = ext.offset;  // file offset of buf[0]
    bool eof = false;
    for (;;) {
      while (!eof && have < cap && base + have < end) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(cap - have, end - (base + have)));
        auto n = reader.ReadAt(base + have, buf.data() + have, want);
        if (!n.ok()) {
          t->dropped = true;
          FileError(absl::StrCat("cannot read ", printable(), ": ", n.status().message()));
          return;
        }
        if (*n == 0) eof = true;  // shorter than when listed
        have += *n;
        if (*n < want) eof = true;
      }
      bool at_end = eof || base + have >= end;
      size_t pos = 0;
      while (pos < have && (at_end || have - pos >= params_.max_size)) {
        size_t cut = chunker::NextCut(reinterpret_cast<const uint8_t*>(buf.data()) + pos,
                                      have - pos, params_);
        if (!Emit(t, base + pos, std::string(buf.data() + pos, cut))) return;
        pos += cut;
      }
      if (pos > 0) {
        std::memmove(buf.data(), buf.data() + pos, have - pos);
        base += pos;
        have -= pos;
      }
      if (at_end && have == 0) break;
    }
    if (eof) break;
  }
  absl::Status s = reader.CheckUnchanged();
  if (!s.ok()) Warn(absl::StrCat("changed while read (saved as read): ", s.message()));
}


}  // namespace shardkeep::customer::archive_internal
