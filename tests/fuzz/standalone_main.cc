// Runs a libFuzzer entry point without libFuzzer: on every file under the
// directories given as arguments (the seed corpus), then on pseudo-random
// inputs and random mutations of the seeds (fixed seed, so a failure
// reproduces). Any crash, sanitizer report or abort fails the test.
// --iterations=N sets the number of generated inputs (default 3000; the
// SK_FUZZ_ITERATIONS environment variable overrides both).
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
void Collect(const std::string& path, std::vector<std::string>* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return;
  if (S_ISREG(st.st_mode)) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    out->push_back(ss.str());
    return;
  }
  if (!S_ISDIR(st.st_mode)) return;
  DIR* d = opendir(path.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    Collect(path + "/" + n, out);
  }
  closedir(d);
}

void Run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> seeds;
  int iterations = 3000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--iterations=", 0) == 0) {
      iterations = atoi(arg.c_str() + 13);
    } else {
      Collect(arg, &seeds);
    }
  }
  if (const char* env = getenv("SK_FUZZ_ITERATIONS")) iterations = atoi(env);
  for (const auto& s : seeds) Run(s);
  std::mt19937_64 rng(20261121);
  for (int i = 0; i < iterations; ++i) {
    std::string in;
    if (!seeds.empty() && (i % 2 == 0)) {
      in = seeds[rng() % seeds.size()];
      const int flips = 1 + rng() % 8;
      for (int f = 0; f < flips && !in.empty(); ++f) {
        switch (rng() % 3) {
          case 0:
            in[rng() % in.size()] ^= static_cast<char>(1 + rng() % 255);
            break;
          case 1:
            in.resize(rng() % (in.size() + 1));
            break;
          default:
            in.insert(rng() % (in.size() + 1), 1, static_cast<char>(rng()));
            break;
        }
      }
    } else {
      in.resize(rng() % 4096);
      for (auto& c : in) c = static_cast<char>(rng());
    }
    Run(in);
  }
  printf("ran %zu seeds and %d generated inputs\n", seeds.size(), iterations);
  return 0;
}
