// Process-wide glibc malloc settings for programs that move multi-MiB
// buffers (blocks, fragments) through a pipeline.
#ifndef SHARDKEEP_COMMON_MALLOC_TUNING_H_
#define SHARDKEEP_COMMON_MALLOC_TUNING_H_

#include <malloc.h>

namespace shardkeep {

// Call once at the top of main(). Buffers of 1 MiB and more (blocks,
// fragments, the reader's window) get their own mmap and go back to the
// kernel when freed, and there are at most two arenas: peak RSS then follows
// what the pipelines hold (their queues and byte budgets), not the
// high-water mark of every arena. Keeping freed big buffers in the heaps
// instead (mmap threshold 64 MiB, trim threshold 256 MiB, four arenas, as
// before) made each arena keep its own peak of freed blocks: the kernel-tree
// backup and restore peaked at 205 / 225 MB for a live heap of about 105 MB
// (heaptrack); with these settings, 146 / 151 MB (docs/PERFORMANCE.md,
// "Memory"). The cost: fresh pages fault in (about 2 us per 4 KiB page on
// this VM), so each block's fresh fragments cost ~4k faults: Reed-Solomon
// encode into fresh buffers runs at about 0.9 instead of 13 GB/s
// (raid_bench); a kernel-tree backup took 10.8 -> 14.2 CPU-seconds (medians
// of 3, loaded machine). Reusing a few fragment and block buffers
// (raid::Codec::EncodeTo) would win that back.
inline void TuneMallocForLargeBuffers() {
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

}  // namespace shardkeep

#endif  // SHARDKEEP_COMMON_MALLOC_TUNING_H_
