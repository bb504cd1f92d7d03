// Fragment put and get throughput of one real shardkeep-supplier process over
// loopback gRPC (1 MiB messages, 4 MiB fragments), and the daemon's memory.
// Target (issue 3): >= 400 MB/s each way on 2 cores, daemon RSS < 300 MiB
// while ingesting 4 GiB.
//
//   bazel build -c opt //tests/bench:supplier_bench //supplier:shardkeep-supplier
//   bazel-out/k8-opt/bin/tests/bench/supplier_bench                # 1 GiB x 3 runs
//   bazel-out/k8-opt/bin/tests/bench/supplier_bench --long         # 4 GiB x 3 runs
//
// Each run uploads --total bytes as fresh 4 MiB fragments over --streams
// concurrent calls (each on its own connection), then downloads them all,
// then deletes them. The client sends precomputed SHA-256 headers and does
// not verify downloads unless --verify (the supplier's work is measured, not
// the client's hashing). RSS is sampled from /proc/<pid>/status every 10 ms;
// VmHWM is the kernel's peak.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "gflags/gflags.h"
#include "proto/signing.h"
#include "tests/harness/supplier_client.h"
#include "tests/harness/supplier_cluster.h"

DEFINE_uint64(total_mib, 1024, "MiB uploaded (and downloaded) per run");
DEFINE_bool(long, false, "the target run: --total_mib=4096");
DEFINE_int32(runs, 3, "runs; medians are reported");
DEFINE_int32(streams, 2, "concurrent uploads/downloads, each on its own connection");
DEFINE_uint64(fragment_kib, 4096, "fragment size in KiB");
DEFINE_uint64(message_kib, 1024, "data bytes per gRPC message in KiB (at most 1024)");
DEFINE_bool(verify, false, "check the SHA-256 of every downloaded fragment");
DEFINE_bool(drop_caches, false, "drop the page cache before each download phase (needs root)");
DEFINE_string(dir, "", "base directory for the supplier's data (default $TMPDIR or /tmp)");
DEFINE_string(supplier_flags, "", "extra flags for the daemon, comma-separated");

namespace shardkeep {
namespace {

namespace v1 = shardkeep::v1;
using testing::SupplierClient;
using testing::SupplierCluster;

uint64_t ProcStatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Payload {
  std::string data, sha256;
};

bool Put(SupplierClient& c, const std::string& key, const Payload& p, size_t message_bytes) {
  auto ctx = c.Context();
  v1::PutFragmentResponse resp;
  auto writer = c.stub()->PutFragment(ctx.get(), &resp);
  v1::PutFragmentChunk chunk;
  v1::FragmentHeader* h = chunk.mutable_header();
  h->set_key(key);
  h->set_size(p.data.size());
  h->set_sha256(p.sha256);
  c.Sign(signing::method::kPutFragment, h);
  bool ok = writer->Write(chunk);
  for (size_t off = 0; ok && off < p.data.size(); off += message_bytes) {
    chunk.mutable_data()->assign(p.data, off, message_bytes);
    ok = writer->Write(chunk);
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) std::fprintf(stderr, "put %s: %s\n", key.c_str(), s.error_message().c_str());
  return s.ok() && !resp.already_present();
}

bool Get(SupplierClient& c, const std::string& key, uint64_t size, const std::string& sha,
         bool verify) {
  v1::GetFragmentRequest req;
  req.set_key(key);
  c.Sign(signing::method::kGetFragment, &req);
  auto ctx = c.Context();
  auto reader = c.stub()->GetFragment(ctx.get(), req);
  v1::FragmentData msg;
  uint64_t got = 0;
  crypto::Sha256Stream hash;
  while (reader->Read(&msg)) {
    got += msg.data().size();
    if (verify) hash.Update(msg.data());
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) std::fprintf(stderr, "get %s: %s\n", key.c_str(), s.error_message().c_str());
  return s.ok() && got == size && (!verify || hash.Final() == sha);
}

int Main() {
  if (FLAGS_long) FLAGS_total_mib = 4096;
  const uint64_t fragment = FLAGS_fragment_kib << 10;
  const size_t message = std::min<uint64_t>(FLAGS_message_kib << 10, 1 << 20);
  const uint64_t total = FLAGS_total_mib << 20;
  const int fragments = static_cast<int>(total / fragment);

  testing::SupplierClusterOptions options;
  options.capacity_bytes = total + (1ULL << 30);
  options.base_dir = FLAGS_dir;
  std::string flags = FLAGS_supplier_flags;
  for (size_t pos = 0; !flags.empty() && pos != std::string::npos;) {
    size_t comma = flags.find(',', pos);
    options.extra_flags.push_back(flags.substr(pos, comma - pos));
    pos = comma == std::string::npos ? comma : comma + 1;
  }
  auto cluster = SupplierCluster::Start(1, options);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", std::string(cluster.status().message()).c_str());
    return 1;
  }
  const pid_t pid = (*cluster)->Pid(0);
  const std::string seed(32, 'b');
  std::vector<std::unique_ptr<SupplierClient>> clients;
  for (int s = 0; s < FLAGS_streams; ++s) {
    auto c = SupplierClient::Connect((*cluster)->Address(0), seed);
    if (!c.ok()) {
      std::fprintf(stderr, "%s\n", std::string(c.status().message()).c_str());
      return 1;
    }
    clients.push_back(std::move(c).value());
  }
  if (!clients[0]->RequestContract(total + (512ULL << 20)).ok()) return 1;

  // 16 distinct random fragments, reused under fresh keys.
  std::vector<Payload> payloads(16);
  std::mt19937_64 rng(1);
  for (auto& p : payloads) {
    p.data.resize(fragment);
    for (size_t i = 0; i + 8 <= fragment; i += 8) {
      uint64_t v = rng();
      std::memcpy(&p.data[i], &v, 8);
    }
    p.sha256 = crypto::Sha256(p.data);
  }

  std::atomic<uint64_t> peak_rss_kib{0};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      uint64_t rss = ProcStatusKiB(pid, "VmRSS");
      uint64_t prev = peak_rss_kib;
      while (rss > prev && !peak_rss_kib.compare_exchange_weak(prev, rss)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  std::printf(
      "supplier_bench: %d run(s) of %llu MiB in %llu KiB fragments, %zu KiB messages, "
      "%d streams, verify=%d\n",
      FLAGS_runs, static_cast<unsigned long long>(FLAGS_total_mib),
      static_cast<unsigned long long>(FLAGS_fragment_kib), message >> 10, FLAGS_streams,
      FLAGS_verify ? 1 : 0);
  std::vector<double> put_rates, get_rates;
  bool all_ok = true;
  for (int run = 0; run < FLAGS_runs; ++run) {
    auto key = [&](int i) { return "run" + std::to_string(run) + "-" + std::to_string(i); };
    std::atomic<int> next{0};
    std::atomic<bool> ok{true};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int s = 0; s < FLAGS_streams; ++s) {
      workers.emplace_back([&, s] {
        for (int i; (i = next++) < fragments;) {
          if (!Put(*clients[s], key(i), payloads[i % payloads.size()], message)) ok = false;
        }
      });
    }
    for (auto& w : workers) w.join();
    double put_s = Seconds(t0);
    if (FLAGS_drop_caches) {
      sync();
      std::ofstream("/proc/sys/vm/drop_caches") << "3\n";
    }
    next = 0;
    workers.clear();
    t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < FLAGS_streams; ++s) {
      workers.emplace_back([&, s] {
        for (int i; (i = next++) < fragments;) {
          const Payload& p = payloads[i % payloads.size()];
          if (!Get(*clients[s], key(i), fragment, p.sha256, FLAGS_verify)) ok = false;
        }
      });
    }
    for (auto& w : workers) w.join();
    double get_s = Seconds(t0);
    double bytes = static_cast<double>(fragments) * fragment;
    put_rates.push_back(bytes / put_s / 1e6);
    get_rates.push_back(bytes / get_s / 1e6);
    std::printf(
        "run %d: put %.0f MB/s (%.2f s), get %.0f MB/s (%.2f s), daemon RSS peak so far "
        "%.1f MiB%s\n",
        run, put_rates.back(), put_s, get_rates.back(), get_s, peak_rss_kib / 1024.0,
        ok ? "" : "  ERRORS");
    all_ok = all_ok && ok;
    // Free the space for the next run.
    for (int i = 0; i < fragments; i += 1000) {
      std::vector<std::string> keys;
      for (int j = i; j < std::min(fragments, i + 1000); ++j) keys.push_back(key(j));
      auto d = clients[0]->DeleteFragments(keys);
      if (!d.ok()) {
        std::fprintf(stderr, "delete: %s\n", std::string(d.status().message()).c_str());
        all_ok = false;
      }
    }
  }
  sampling = false;
  sampler.join();
  uint64_t hwm = ProcStatusKiB(pid, "VmHWM");
  std::printf(
      "median: put %.0f MB/s, get %.0f MB/s; daemon VmHWM %.1f MiB, sampled RSS peak "
      "%.1f MiB\n",
      Median(put_rates), Median(get_rates), hwm / 1024.0, peak_rss_kib / 1024.0);
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace shardkeep

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return shardkeep::Main();
}
