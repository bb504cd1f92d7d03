// Throughput of the chunking and compression layers, single thread.
//   bazel build -c opt //tests/bench:compress_bench
//   bazel-bin/tests/bench/compress_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one line)
// Bytes/s are of input (uncompressed) bytes in every benchmark.
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/chunker.h"
#include "common/compress.h"

namespace shardkeep {
namespace {

constexpr size_t kMiB = 1024 * 1024;
constexpr size_t kCorpusSize = 16 * kMiB;
// Chunks are about 1 MiB with the default chunker parameters; compress in
// pieces of that size as the backup path does.
constexpr size_t kPieceSize = 1 * kMiB;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::copy_n(reinterpret_cast<const char*>(&v), 8, s.data() + i);
  }
  return s;
}

// Real source text: the .h files under /usr/include in path order, up to
// kCorpusSize bytes; generated text-like bytes if there are too few.
const std::string& TextCorpus() {
  static const std::string* corpus = [] {
    auto* s = new std::string;
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             "/usr/include", std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".h") files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (s->size() >= kCorpusSize) break;
      std::ifstream in(f, std::ios::binary);
      s->append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (s->size() < kCorpusSize) {
      std::fprintf(stderr, "text corpus: /usr/include gave %zu bytes, adding generated text\n",
                   s->size());
      static const char* const kWords[] = {"int ",  "return ", "static ", "const ",
                                           "void ", "struct ", "{\n",     "}\n",
                                           "(",     ");\n",    "if ",     "x"};
      std::mt19937 rng(1);
      while (s->size() < kCorpusSize) {
        *s += kWords[rng() % 12];
        if (rng() % 5 == 0) *s += std::to_string(rng() % 100000);
      }
    }
    s->resize(kCorpusSize);
    return s;
  }();
  return *corpus;
}

const std::string& RandomCorpus() {
  static const std::string* corpus = new std::string(RandomBytes(kCorpusSize, 42));
  return *corpus;
}

const std::string& Corpus(int kind) { return kind == 0 ? TextCorpus() : RandomCorpus(); }

void BM_FastCDC(benchmark::State& state) {
  const std::string data = RandomBytes(64 * kMiB, 7);
  chunker::Params params;
  if (state.range(0) == 1) params = chunker::Params{2048, 8192, 65536};
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t chunks = 0;
  for (auto _ : state) {
    const std::vector<size_t> lengths = chunker::ChunkLengths(p, data.size(), params);
    chunks = lengths.size();
    benchmark::DoNotOptimize(lengths.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["avg_chunk_KiB"] = static_cast<double>(data.size()) / chunks / 1024;
  state.SetLabel(state.range(0) == 1 ? "random 64MiB, min2K/avg8K/max64K"
                                     : "random 64MiB, min256K/avg1M/max4M");
}
BENCHMARK(BM_FastCDC)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// range(0): zstd level; range(1): 0 text, 1 random.
void BM_ZstdCompress(benchmark::State& state) {
  const int level = static_cast<int>(state.range(0));
  const std::string& corpus = Corpus(static_cast<int>(state.range(1)));
  std::string out;
  out.reserve(corpus.size());
  size_t stored = 0, compressed_pieces = 0, pieces = 0;
  for (auto _ : state) {
    out.clear();
    stored = compressed_pieces = pieces = 0;
    for (size_t off = 0; off < corpus.size(); off += kPieceSize) {
      const std::string_view piece(corpus.data() + off, std::min(kPieceSize, corpus.size() - off));
      const size_t before = out.size();
      ++pieces;
      if (compress::CompressIfSmaller(piece, level, &out)) {
        ++compressed_pieces;
        stored += out.size() - before;
      } else {
        stored += piece.size();
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.size()));
  state.counters["stored_ratio"] = static_cast<double>(stored) / corpus.size();
  state.counters["compressed_pieces"] = static_cast<double>(compressed_pieces);
  state.SetLabel(state.range(1) == 0 ? "text" : "random (stored raw)");
}
BENCHMARK(BM_ZstdCompress)
    ->ArgNames({"level", "random"})
    ->Args({1, 0})
    ->Args({3, 0})
    ->Args({1, 1})
    ->Args({3, 1})
    ->Unit(benchmark::kMillisecond);

// Frames of the corpus pieces at `level`. For random data CompressIfSmaller
// declines, so the frames come from plain ZSTD_compress: that is what reading
// them would cost if they were not stored raw.
std::vector<std::string> Frames(const std::string& corpus, int level) {
  std::vector<std::string> frames;
  for (size_t off = 0; off < corpus.size(); off += kPieceSize) {
    const std::string_view piece(corpus.data() + off, std::min(kPieceSize, corpus.size() - off));
    std::string frame;
    if (!compress::CompressIfSmaller(piece, level, &frame)) {
      frame.resize(ZSTD_compressBound(piece.size()));
      frame.resize(ZSTD_compress(frame.data(), frame.size(), piece.data(), piece.size(), level));
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

void BM_ZstdDecompress(benchmark::State& state) {
  const int level = static_cast<int>(state.range(0));
  const std::string& corpus = Corpus(static_cast<int>(state.range(1)));
  const std::vector<std::string> frames = Frames(corpus, level);
  std::string out;
  out.reserve(corpus.size());
  for (auto _ : state) {
    out.clear();
    for (size_t i = 0; i < frames.size(); ++i) {
      const size_t expected = std::min(kPieceSize, corpus.size() - i * kPieceSize);
      if (!compress::Decompress(frames[i], expected, &out).ok()) {
        state.SkipWithError("decompress failed");
        return;
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  if (out != corpus) state.SkipWithError("round trip mismatch");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.size()));
  state.SetLabel(state.range(1) == 0 ? "text" : "random (forced zstd frames)");
}
BENCHMARK(BM_ZstdDecompress)
    ->ArgNames({"level", "random"})
    ->Args({1, 0})
    ->Args({3, 0})
    ->Args({1, 1})
    ->Args({3, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace shardkeep

BENCHMARK_MAIN();
