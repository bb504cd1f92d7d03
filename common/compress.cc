#include "common/compress.h"

#include <zstd.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace shardkeep::compress {
namespace {

// The largest scratch buffer a thread keeps between calls: the chunker's
// largest chunk (4 MiB) with room to spare.
constexpr size_t kScratchKeep = 8 << 20;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One compression context per thread, reused across calls and levels
// (creating one costs far more than compressing a small chunk). The level is
// set on every call; the checksum flag once.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx = [] {
    std::unique_ptr<ZSTD_CCtx, CCtxDeleter> c(ZSTD_createCCtx());
    if (c != nullptr && ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 1))) {
      c.reset();
    }
    return c;
  }();
  return ctx.get();
}

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

uint32_t LoadLE32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

}  // namespace

bool CompressIfSmaller(std::string_view in, int level, std::string* out) {
  if (in.empty()) return false;
  ZSTD_CCtx* ctx = ThreadCCtx();
  if (ctx == nullptr) return false;  // out of memory: storing raw is always correct
  if (ZSTD_isError(ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level))) return false;
  // Only a strictly smaller frame is of use, so give zstd exactly that much
  // room: on incompressible input it fails with dstSize_tooSmall instead of
  // writing a frame we would throw away. The room is a per-thread scratch
  // buffer, not `out`: a string resized to the input and shrunk to the frame
  // keeps the input's capacity, so every compressed chunk waiting in a queue
  // would hold its raw size in memory (3-4x on source code). The scratch is
  // not zero-filled, so only the pages zstd writes (the frame) are resident.
  thread_local std::unique_ptr<char[]> scratch;
  thread_local size_t scratch_size = 0;
  const size_t capacity = in.size() - 1;
  if (scratch_size < capacity) {
    scratch.reset();
    scratch.reset(new char[capacity]);
    scratch_size = capacity;
  }
  const size_t n = ZSTD_compress2(ctx, scratch.get(), capacity, in.data(), in.size());
  if (ZSTD_isError(n)) return false;
  out->append(scratch.get(), n);
  // A one-off large input (a repack, a big tree) should not pin its scratch.
  if (scratch_size > kScratchKeep) {
    scratch.reset();
    scratch_size = 0;
  }
  return true;
}

absl::Status Decompress(std::string_view in, size_t expected_size, std::string* out) {
  // Skippable frames would report a content size of 0; only real frames count.
  if (in.size() < 4 || LoadLE32(in.data()) != ZSTD_MAGICNUMBER) {
    return absl::DataLossError("zstd: not a zstd frame");
  }
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return absl::DataLossError("zstd: corrupt frame header");
  }
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN) {
    return absl::DataLossError("zstd: frame does not declare its content size");
  }
  if (declared != expected_size) {
    return absl::DataLossError(
        absl::StrCat("zstd: frame declares ", declared, " bytes, expected ", expected_size));
  }
  // Walks the block headers without decoding: rejects truncated frames and
  // anything after the frame before we allocate.
  const size_t frame_size = ZSTD_findFrameCompressedSize(in.data(), in.size());
  if (ZSTD_isError(frame_size)) {
    return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(frame_size)));
  }
  if (frame_size != in.size()) {
    return absl::DataLossError(
        absl::StrCat("zstd: ", in.size() - frame_size, " trailing bytes after the frame"));
  }
  ZSTD_DCtx* ctx = ThreadDCtx();
  if (ctx == nullptr) return absl::ResourceExhaustedError("zstd: cannot create context");
  const size_t old_size = out->size();
  out->resize(old_size + expected_size);
  const size_t n =
      ZSTD_decompressDCtx(ctx, out->data() + old_size, expected_size, in.data(), in.size());
  if (ZSTD_isError(n) || n != expected_size) {
    out->resize(old_size);
    return absl::DataLossError(absl::StrCat(
        "zstd: ", ZSTD_isError(n) ? ZSTD_getErrorName(n) : "frame shorter than declared"));
  }
  return absl::OkStatus();
}

}  // namespace shardkeep::compress
