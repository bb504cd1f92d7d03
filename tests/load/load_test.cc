// Load, abuse and crash test of one real supplier (issue 11). Honest
// customers put, get, list and delete while an attacker floods nonces with
// throw-away keys, holds silent and trickling streams and stores empty items;
// optionally the supplier is killed (SIGKILL) and restarted every few seconds.
// It reports throughput and p50/p99 latency with and without the attacker,
// the honest success rate, and the supplier's RSS and open fds over time; it
// asserts every honest request succeeded (retried across kills), and
// afterwards, for every customer: every acknowledged fragment is listed and
// read back with its SHA-256, nothing unacknowledged (deleted, or an upload
// cut off by a kill) is listed, and the contract's usage equals the sum of
// what it stores; the supplier's start-up reconciliation after the kills must
// not have had to drop or correct anything.
//
// The test keeps only the SHA-256 of each acknowledged fragment, not its
// bytes: the full-length run acknowledges ~400,000 fragments of 64 KiB
// (25 GiB), and keeping the bytes got the test process killed by the kernel's
// OOM killer in the kill phase (RELIABILITY.md).
//
// The normal suite runs a short version. tests/load/run.sh runs the long one:
//   LOAD_SECONDS (per phase, default 6), LOAD_CUSTOMERS (default 6),
//   LOAD_KILL_EVERY (seconds, 0 = no kill phase; default 4),
//   LOAD_PHASES (comma-separated subset of quiet,attacked,killed; default all).
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "gtest/gtest.h"
#include "proto/signing.h"
#include "tests/harness/supplier_client.h"
#include "tests/harness/supplier_cluster.h"

namespace shardkeep::testing {
namespace {

namespace m = signing::method;
using Clock = std::chrono::steady_clock;

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v == nullptr ? def : std::atoi(v);
}

// Customer numbers: honest ones are 100+ (quiet), 200+ (attacked), 300+
// (killed); this one only starts uploads it never finishes.
constexpr int kCutOffCustomer = 7;

std::string Seed(int who, char tag) {
  std::string s(32, tag);
  std::memcpy(&s[0], &who, sizeof(who));
  return s;
}

std::string Bytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

struct ProcSample {
  long rss_kib = 0;
  int fds = 0;
};

ProcSample Sample(pid_t pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream st("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(st, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::atol(line.c_str() + 6);
  }
  if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (readdir(d) != nullptr) ++s.fds;
    closedir(d);
    s.fds -= 2;
  }
  return s;
}

struct Stats {
  std::mutex mu;
  std::vector<double> latency_ms;
  int64_t ok = 0, failed = 0, retried = 0, contracts_grown = 0;
  std::string first_error, first_retry_error;
  void Add(double ms, const absl::Status& s) {
    std::lock_guard<std::mutex> l(mu);
    latency_ms.push_back(ms);
    if (s.ok()) {
      ++ok;
    } else {
      ++failed;
      if (first_error.empty()) first_error = s.ToString();
    }
  }
  double Pct(double p) {
    std::lock_guard<std::mutex> l(mu);
    if (latency_ms.empty()) return 0;
    std::vector<double> v = latency_ms;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  }
};

// The supplier's address may change across restarts (same port if possible).
struct Target {
  std::mutex mu;
  std::string address;
  std::string Get() {
    std::lock_guard<std::mutex> l(mu);
    return address;
  }
};

// One honest customer's loop: put 64 KiB, read it back, list, delete old ones.
// Every operation is retried (new connection, new signature) until it
// succeeds or kRetryForS pass: across kills nothing may be lost. The budget
// covers a supplier restart: start-up reads the whole index and every
// fragment directory, which took up to 30 s with ~270,000 fragments on the
// shared 2-core machine (RELIABILITY.md).
constexpr int kRetryForS = 120;
void Honest(int who, Target* target, std::atomic<bool>* stop, Stats* stats,
            std::map<std::string, std::string>* acked, std::mutex* acked_mu) {
  // acked: key -> SHA-256 of the bytes the supplier acknowledged.
  std::unique_ptr<SupplierClient> c;
  auto connect = [&]() -> absl::Status {
    SupplierClientOptions o;
    o.deadline_ms = 10000;
    o.retry_unavailable = false;
    auto r = SupplierClient::Connect(target->Get(), Seed(who, 'H'), o);
    if (!r.ok()) return r.status();
    c = std::move(r).value();
    return absl::OkStatus();
  };
  auto op = [&](const std::function<absl::Status()>& f) {
    const auto start = Clock::now();
    absl::Status s;
    while (true) {
      if (c == nullptr) s = connect();
      if (c != nullptr) s = f();
      if (s.ok() || absl::IsNotFound(s) ||
          Clock::now() - start > std::chrono::seconds(kRetryForS)) {
        break;
      }
      c = nullptr;
      {
        std::lock_guard<std::mutex> l(stats->mu);
        ++stats->retried;
        if (stats->first_retry_error.empty()) stats->first_retry_error = s.ToString();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stats->Add(std::chrono::duration<double, std::milli>(Clock::now() - start).count(), s);
  };
  // The contract starts small and doubles whenever a put would exceed it,
  // as a customer's grows: a fixed quota ran out in long runs with few
  // customers (RESOURCE_EXHAUSTED), and 150 large ones would not fit the
  // free disk. The suite's short run grows it too.
  uint64_t quota = 8 << 20;
  op([&] { return c->RequestContract(quota).status(); });
  int n = 0;
  while (!*stop) {
    const std::string key = "k" + std::to_string(who) + "-" + std::to_string(n);
    const std::string data = Bytes(64 << 10, who * 1000003 + n);
    op([&]() -> absl::Status {
      absl::Status s = c->PutFragment(key, data).status();
      if (absl::IsResourceExhausted(s) && s.message().find("quota") != std::string_view::npos) {
        RETURN_IF_ERROR(c->RequestContract(quota * 2).status());
        quota *= 2;
        {
          std::lock_guard<std::mutex> l(stats->mu);
          ++stats->contracts_grown;
        }
        s = c->PutFragment(key, data).status();
      }
      if (s.ok()) {
        std::lock_guard<std::mutex> l(*acked_mu);
        (*acked)[key] = crypto::Sha256(data);
      }
      return s;
    });
    op([&]() -> absl::Status {
      auto back = c->GetFragment(key);
      if (!back.ok()) return back.status();
      return *back == data ? absl::OkStatus() : absl::DataLossError("bytes differ");
    });
    if (n % 4 == 0) op([&] { return c->ListFragments("k" + std::to_string(who) + "-").status(); });
    if (n % 8 == 7) {
      const std::string old = "k" + std::to_string(who) + "-" + std::to_string(n - 7);
      op([&]() -> absl::Status {
        absl::Status s = c->DeleteFragments({old}).status();
        if (s.ok()) {
          std::lock_guard<std::mutex> l(*acked_mu);
          acked->erase(old);
        }
        return s;
      });
    }
    ++n;
  }
}

// The attacker: all four kinds at once, until stopped.
// What the attacker sent, by kind, and what the supplier did with it.
struct AttackCounts {
  std::atomic<int64_t> flood{0}, flood_refused{0};  // GetContract, throw-away keys
  std::atomic<int64_t> silent{0};                   // streams opened, never a message
  std::atomic<int64_t> trickle{0};                  // uploads with a header, 1 byte / 500 ms
  std::atomic<int64_t> empty{0}, empty_stored{0};   // PutObject of 0 bytes
  int64_t Total() const { return flood + silent + trickle + empty; }
};

void Attack(Target* target, std::atomic<bool>* stop, AttackCounts* n) {
  std::vector<std::thread> t;
  // Nonce flood with throw-away keys.
  t.emplace_back([&] {
    auto anchor = SupplierClient::Connect(target->Get(), Seed(0, 'Z'));
    for (int i = 0; !*stop && anchor.ok(); ++i) {
      v1::GetContractRequest req;
      signing::Sign(m::kGetContract, (*anchor)->supplier_id(), Seed(i, 'T'), &req);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      v1::ContractResponse resp;
      if (!(*anchor)->stub()->GetContract(&ctx, req, &resp).ok()) ++n->flood_refused;
      ++n->flood;
    }
  });
  // Silent streams: 200 open at a time, renewed every second.
  t.emplace_back([&] {
    while (!*stop) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto ch = grpc::CreateCustomChannel(target->Get(), grpc::InsecureChannelCredentials(), args);
      auto stub = v1::Supplier::NewStub(ch);
      std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
      std::vector<std::unique_ptr<grpc::ClientWriter<v1::PutFragmentChunk>>> ws;
      v1::PutFragmentResponse resp;
      for (int i = 0; i < 200 && !*stop; ++i) {
        ctxs.push_back(std::make_unique<grpc::ClientContext>());
        ctxs.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        ws.push_back(stub->PutFragment(ctxs.back().get(), &resp));
        ++n->silent;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      for (auto& c : ctxs) c->TryCancel();
    }
  });
  // Trickling uploads and empty items from a customer with a contract.
  t.emplace_back([&] {
    while (!*stop) {
      auto a = SupplierClient::Connect(target->Get(), Seed(1, 'A'));
      if (!a.ok() || !(*a)->RequestContract(64 << 20).ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
      std::vector<std::unique_ptr<grpc::ClientWriter<v1::PutFragmentChunk>>> ws;
      v1::PutFragmentResponse resp;
      for (int i = 0; i < 40; ++i) {  // more than its 32 streams
        ctxs.push_back(std::make_unique<grpc::ClientContext>());
        ws.push_back((*a)->stub()->PutFragment(ctxs.back().get(), &resp));
        v1::PutFragmentChunk h;
        h.mutable_header()->set_key("trickle" + std::to_string(i));
        h.mutable_header()->set_size(1 << 20);
        h.mutable_header()->set_sha256(std::string(32, 'x'));
        (*a)->Sign(m::kPutFragment, h.mutable_header());
        ws.back()->Write(h);
        ++n->trickle;
      }
      for (int round = 0; round < 10 && !*stop; ++round) {
        v1::PutFragmentChunk d;
        d.set_data("x");
        for (auto& w : ws) w->Write(d);
        for (int i = 0; i < 20; ++i) {
          if ((*a)->PutObject("empty/" + std::to_string(round * 100 + i), "").ok()) {
            ++n->empty_stored;
          }
          ++n->empty;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      for (auto& c : ctxs) c->TryCancel();
    }
  });
  for (auto& x : t) x.join();
}

// Uploads that are never finished, so that kills land in the middle of
// some: header for 2 MiB, 1 MiB of data, a pause, then the stream is
// cancelled. None of these keys may ever be visible. Counts streams started.
void CutOffUploads(Target* target, std::atomic<bool>* stop, std::atomic<int64_t>* started) {
  const std::string data = Bytes(2 << 20, 77);
  const std::string sha = crypto::Sha256(data);
  for (int n = 0; !*stop; ++n) {
    SupplierClientOptions o;
    o.deadline_ms = 10000;
    o.retry_unavailable = false;
    auto c = SupplierClient::Connect(target->Get(), Seed(kCutOffCustomer, 'H'), o);
    if (!c.ok() || !(*c)->RequestContract(64 << 20).ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    auto ctx = (*c)->Context();
    v1::PutFragmentResponse resp;
    auto w = (*c)->stub()->PutFragment(ctx.get(), &resp);
    v1::PutFragmentChunk chunk;
    v1::FragmentHeader* h = chunk.mutable_header();
    h->set_key("cut-" + std::to_string(n));
    h->set_size(data.size());
    h->set_sha256(sha);
    (*c)->Sign(m::kPutFragment, h);
    bool ok = w->Write(chunk);
    for (size_t off = 0; ok && off < data.size() / 2; off += 64 << 10) {
      v1::PutFragmentChunk d;
      d.set_data(data.substr(off, 64 << 10));
      ok = w->Write(d);
    }
    ++*started;
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    ctx->TryCancel();
    w->Finish().ok();
  }
}

struct PhaseResult {
  double ops_per_s, p50, p99;
  int64_t ok, failed, retried;
  std::string first_error, first_retry_error;
  long max_rss_kib;
  int max_fds;
};

// Pages through all of a customer's fragments with `prefix`.
absl::StatusOr<std::vector<v1::FragmentInfo>> ListAll(SupplierClient* c,
                                                      const std::string& prefix) {
  std::vector<v1::FragmentInfo> out;
  std::string after;
  for (;;) {
    ASSIGN_OR_RETURN(v1::ListFragmentsResponse r, c->ListFragments(prefix, after));
    for (const auto& f : r.fragments()) out.push_back(f);
    if (!r.more() || r.fragments().empty()) return out;
    after = out.back().key();
  }
}

// What one item costs against quota: the daemon's ItemCharge with its
// default --min-item-charge of 4 KiB (supplier/store.h).
uint64_t Charge(uint64_t size, size_t name_bytes) {
  return std::max<uint64_t>(size, 4096) + name_bytes;
}

struct Audit {
  std::mutex mu;
  int64_t checked = 0;      // acknowledged fragments read back
  int64_t lost = 0;         // acknowledged, not listed or not readable
  int64_t wrong = 0;        // listed or read with another hash
  int64_t unacked = 0;      // listed but never acknowledged (or deleted)
  int64_t usage_wrong = 0;  // contracts whose usage != the sum of their items
  std::vector<std::string> examples;
  void Note(int64_t* counter, const std::string& what) {
    std::lock_guard<std::mutex> l(mu);
    ++*counter;
    if (examples.size() < 10) examples.push_back(what);
  }
};

// Checks one customer's fragments with `prefix` against `expected` (key ->
// SHA-256 acknowledged; empty for a customer that never finished an upload)
// and its usage against what it stores (fragments and objects).
void AuditCustomer(const std::string& address, int who, const std::string& prefix,
                   const std::map<std::string, std::string>& expected, Audit* audit) {
  const std::string id = "customer " + std::to_string(who);
  std::unique_ptr<SupplierClient> c;
  for (int attempt = 0; attempt < 50 && c == nullptr; ++attempt) {
    auto r = SupplierClient::Connect(address, Seed(who, who == 1 ? 'A' : 'H'));
    if (r.ok()) {
      c = std::move(r).value();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (c == nullptr) {
    audit->Note(&audit->lost, id + ": cannot connect");
    return;
  }
  auto contract = c->GetContract();
  if (!contract.ok()) {
    if (!expected.empty()) audit->Note(&audit->lost, id + ": " + contract.status().ToString());
    return;  // never got a contract: nothing stored, nothing to check
  }
  auto listed = ListAll(c.get(), prefix);
  if (!listed.ok()) {
    audit->Note(&audit->lost, id + ": list: " + listed.status().ToString());
    return;
  }
  std::set<std::string> seen;
  uint64_t charged = 0;
  for (const auto& f : *listed) {
    seen.insert(f.key());
    charged += Charge(f.size(), f.key().size());
    auto e = expected.find(f.key());
    if (e == expected.end()) {
      audit->Note(&audit->unacked, id + ": " + f.key() + " listed, never acknowledged");
    } else if (f.sha256() != e->second) {
      audit->Note(&audit->wrong, id + ": " + f.key() + " listed with another hash");
    }
  }
  for (const auto& [key, sha] : expected) {
    if (!seen.count(key)) {
      audit->Note(&audit->lost, id + ": " + key + " acknowledged, not listed");
      continue;
    }
    auto back = c->GetFragment(key);
    if (!back.ok()) {
      audit->Note(&audit->lost, id + ": " + key + ": " + back.status().ToString());
    } else if (crypto::Sha256(*back) != sha) {
      audit->Note(&audit->wrong, id + ": " + key + " read back with another hash");
    }
    std::lock_guard<std::mutex> l(audit->mu);
    ++audit->checked;
  }
  // Usage: everything the contract holds, not only `prefix`.
  auto all = ListAll(c.get(), "");
  uint64_t fragments = 0, objects = 0;
  charged = 0;
  if (all.ok()) {
    for (const auto& f : *all) charged += Charge(f.size(), f.key().size());
    fragments = all->size();
  }
  std::string after;
  for (bool more = true; more && all.ok();) {
    auto r = c->ListObjects("", after);
    if (!r.ok()) break;
    for (const auto& o : r->objects()) {
      charged += Charge(o.size(), o.name().size());
      ++objects;
      after = o.name();
    }
    more = r->more() && r->objects_size() > 0;
  }
  contract = c->GetContract();
  if (!all.ok() || !contract.ok() || contract->used_bytes() != charged ||
      contract->fragments() != fragments || contract->objects() != objects) {
    audit->Note(&audit->usage_wrong,
                id + ": contract says " +
                    (contract.ok() ? std::to_string(contract->used_bytes()) + " bytes in " +
                                         std::to_string(contract->fragments()) + " fragments, " +
                                         std::to_string(contract->objects()) + " objects"
                                   : contract.status().ToString()) +
                    "; stored: " + std::to_string(charged) + " bytes in " +
                    std::to_string(fragments) + " fragments, " + std::to_string(objects) +
                    " objects");
  }
}

// Lines of the supplier's log (all its starts) containing `needle`.
int CountLines(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

TEST(SupplierLoad, HonestCustomersAreServedUnderAttackAndAcrossKills) {
  const int seconds = EnvInt("LOAD_SECONDS", 6);
  const int customers = EnvInt("LOAD_CUSTOMERS", 6);
  const int kill_every = EnvInt("LOAD_KILL_EVERY", 4);
  const char* phases_env = std::getenv("LOAD_PHASES");
  const std::string phases =
      "," +
      std::string(phases_env != nullptr && *phases_env ? phases_env : "quiet,attacked,killed") +
      ",";
  auto wants = [&](const char* p) {
    return phases.find("," + std::string(p) + ",") != std::string::npos;
  };
  // Every peer is 127.0.0.1 here: the per-IP bound on waiting streams would
  // treat the honest customers as the attacker; the global bound stays. A
  // full-length run opens ~150 contracts in 30 min, more than the default
  // --new-contracts-per-hour (100; admission_test covers that limit): in the
  // 2026-12-07 run the kill phase's customers waited for it.
  // Start-up grows with the data dir (see kRetryForS): the harness's usual
  // 30 s to start listening is not enough for a full-length run.
  auto cluster = SupplierCluster::Start(
      1, {.capacity_bytes = 64ULL << 30,
          .extra_flags = {"--max-waiting-streams-per-peer=0", "--new-contracts-per-hour=0"},
          .start_timeout_ms = kRetryForS * 1000});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  Target target;
  target.address = (*cluster)->Address(0);
  std::map<std::string, std::string> acked;  // key -> SHA-256
  std::mutex acked_mu;
  std::vector<int> honest_customers;

  auto run_phase = [&](const char* name, bool attack, int kill_s, int first_customer) {
    Stats stats;
    std::atomic<bool> stop{false}, stop_attack{false};
    AttackCounts attack_counts;
    std::atomic<int64_t> cut_off{0};
    std::vector<std::thread> honest;
    for (int i = 0; i < customers; ++i) {
      honest_customers.push_back(first_customer + i);
      honest.emplace_back(Honest, first_customer + i, &target, &stop, &stats, &acked, &acked_mu);
    }
    std::thread attacker, cutter;
    if (attack) attacker = std::thread(Attack, &target, &stop_attack, &attack_counts);
    if (kill_s > 0) cutter = std::thread(CutOffUploads, &target, &stop_attack, &cut_off);
    long max_rss = 0;
    int max_fds = 0;
    int kills = 0;
    std::vector<double> restart_s;
    const auto start = Clock::now();
    for (int s = 0; s < seconds; ++s) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      ProcSample p = Sample((*cluster)->Pid(0));
      max_rss = std::max(max_rss, p.rss_kib);
      max_fds = std::max(max_fds, p.fds);
      // The test's own RSS too: it must stay small (see the file comment).
      std::fprintf(stderr, "%s t=%ds rss=%ld KiB fds=%d test_rss=%ld KiB\n", name, s + 1, p.rss_kib,
                   p.fds, Sample(getpid()).rss_kib);
      if (kill_s > 0 && (s + 1) % kill_s == 0 && s + 1 < seconds) {
        EXPECT_TRUE((*cluster)->Kill(0).ok());
        const auto restart = Clock::now();
        absl::Status r = (*cluster)->Restart(0);
        EXPECT_TRUE(r.ok()) << r << (*cluster)->LogTail(0);
        restart_s.push_back(std::chrono::duration<double>(Clock::now() - restart).count());
        std::fprintf(stderr, "%s t=%ds kill %d: restarted in %.2f s\n", name, s + 1, kills + 1,
                     restart_s.back());
        std::lock_guard<std::mutex> l(target.mu);
        target.address = (*cluster)->Address(0);
        ++kills;
      }
    }
    if (!restart_s.empty()) {
      std::sort(restart_s.begin(), restart_s.end());
      std::fprintf(stderr,
                   "RESULT %s: restarts after kill -9: min %.2f s, median %.2f s, max %.2f s\n",
                   name, restart_s.front(), restart_s[restart_s.size() / 2], restart_s.back());
    }
    stop = true;
    for (auto& t : honest) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    stop_attack = true;
    if (attacker.joinable()) attacker.join();
    if (cutter.joinable()) cutter.join();
    PhaseResult r{(stats.ok + stats.failed) / secs,
                  stats.Pct(0.5),
                  stats.Pct(0.99),
                  stats.ok,
                  stats.failed,
                  stats.retried,
                  stats.first_error,
                  stats.first_retry_error,
                  max_rss,
                  max_fds};
    std::fprintf(
        stderr,
        "RESULT %s: %d customers, %.0f s, %d kills: %lld ok, %lld failed, %lld retries, "
        "%lld contracts grown; "
        "%.1f ops/s, p50 %.2f ms, p99 %.2f ms; attacker requests %lld; uploads cut off %lld; "
        "supplier max RSS %ld KiB, max fds %d%s%s%s%s\n",
        name, customers, secs, kills, static_cast<long long>(r.ok),
        static_cast<long long>(r.failed), static_cast<long long>(r.retried),
        static_cast<long long>(stats.contracts_grown), r.ops_per_s, r.p50, r.p99,
        static_cast<long long>(attack_counts.Total()), static_cast<long long>(cut_off.load()),
        r.max_rss_kib, r.max_fds,
        r.first_error.empty() ? "" : "; first error: ", r.first_error.c_str(),
        r.first_retry_error.empty() ? "" : "; first retried: ", r.first_retry_error.c_str());
    if (attack_counts.Total() > 0) {
      std::fprintf(stderr,
                   "RESULT %s: attacker per second: %.1f nonce-flood calls (%.1f refused), %.1f "
                   "silent streams, %.1f trickling uploads, %.1f empty objects (%.1f stored)\n",
                   name, attack_counts.flood / secs, attack_counts.flood_refused / secs,
                   attack_counts.silent / secs, attack_counts.trickle / secs,
                   attack_counts.empty / secs, attack_counts.empty_stored / secs);
    }
    return r;
  };

  std::optional<PhaseResult> quiet, attacked;
  if (wants("quiet")) {
    quiet = run_phase("quiet", false, 0, 100);
    EXPECT_EQ(quiet->failed, 0) << quiet->first_error;
  }
  if (wants("attacked")) {
    attacked = run_phase("attacked", true, 0, 200);
    EXPECT_EQ(attacked->failed, 0) << attacked->first_error;
    // Retries under attack are reported, not failed on: on loopback the
    // attacker shares the honest customers' IP, so the waiting-stream bound
    // can cut an honest stream that is slow to send its header (the client
    // retries it at once; RELIABILITY.md).
    EXPECT_LT(attacked->max_rss_kib, 512 * 1024);
  }
  if (quiet && attacked) {
    std::fprintf(stderr, "RESULT p99 ratio attacked/quiet: %.2f\n",
                 quiet->p99 > 0 ? attacked->p99 / quiet->p99 : 0.0);
  }
  if (wants("killed") && kill_every > 0) {
    PhaseResult killed = run_phase("killed", false, kill_every, 300);
    EXPECT_EQ(killed.failed, 0) << killed.first_error;
  }

  // Afterwards, customer by customer (8 at a time): every acknowledged
  // fragment (not deleted since) is listed and read back with its hash,
  // nothing else is listed, and usage is the sum of what is stored. Then the
  // uploads that were cut off and the attacker's unfinished trickles: none
  // visible.
  std::map<int, std::map<std::string, std::string>> by_customer;
  for (int who : honest_customers) by_customer[who];
  for (auto& [key, sha] : acked) by_customer[std::atoi(key.c_str() + 1)][key] = sha;
  Audit audit;
  const auto audit_start = Clock::now();
  {
    std::vector<int> todo;
    for (auto& [who, e] : by_customer) todo.push_back(who);
    todo.push_back(kCutOffCustomer);
    if (attacked) todo.push_back(1);
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    const std::string address = target.Get();
    for (int w = 0; w < 8; ++w) {
      workers.emplace_back([&] {
        for (size_t i; (i = next++) < todo.size();) {
          const int who = todo[i];
          static const std::map<std::string, std::string> kNone;
          auto e = by_customer.find(who);
          const bool honest = e != by_customer.end();
          AuditCustomer(address, who, honest ? "k" + std::to_string(who) + "-" : "",
                        honest ? e->second : kNone, &audit);
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  std::ostringstream examples;
  for (const auto& x : audit.examples) examples << "\n  " << x;
  // Start-up reconciliation repairs what a crash cannot cause (the
  // crash-safe write order) and says so: after kill -9 it must only have
  // removed temporaries and quarantined uncommitted files.
  const int repaired = CountLines((*cluster)->LogPath(0), "dropping it from the index") +
                       CountLines((*cluster)->LogPath(0), "; correcting");
  const int reconciled = CountLines((*cluster)->LogPath(0), "start-up reconciliation:");
  std::fprintf(stderr,
               "RESULT acknowledged fragments checked: %lld in %.0f s; lost: %lld, wrong hash: "
               "%lld, unacknowledged visible: %lld, contracts with wrong usage: %lld (of %zu); "
               "start-ups that reconciled: %d, index/usage repairs logged: %d%s\n",
               static_cast<long long>(audit.checked),
               std::chrono::duration<double>(Clock::now() - audit_start).count(),
               static_cast<long long>(audit.lost), static_cast<long long>(audit.wrong),
               static_cast<long long>(audit.unacked), static_cast<long long>(audit.usage_wrong),
               by_customer.size() + 1 + (attacked ? 1 : 0), reconciled, repaired,
               examples.str().c_str());
  EXPECT_EQ(audit.checked, static_cast<int64_t>(acked.size()));
  EXPECT_EQ(audit.lost, 0) << examples.str();
  EXPECT_EQ(audit.wrong, 0) << examples.str();
  EXPECT_EQ(audit.unacked, 0) << examples.str();
  EXPECT_EQ(audit.usage_wrong, 0) << examples.str();
  EXPECT_EQ(repaired, 0) << (*cluster)->LogTail(0);
}

}  // namespace
}  // namespace shardkeep::testing
