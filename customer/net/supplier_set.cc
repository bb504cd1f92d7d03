#include "customer/net/supplier_set.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto.h"
#include "common/error_kind.h"
#include "customer/vault/names.h"
#include "proto/limits.h"

namespace shardkeep::customer {

int CommitThreshold(int n, int k) { return std::min(n, k + 1); }

absl::StatusOr<std::unique_ptr<SupplierSet>> SupplierSet::Connect(
    const vault::v1::VaultConfig& config, const std::string& identity_seed,
    const SupplierConnector& connector, Options options) {
  std::vector<std::unique_ptr<SupplierClient>> clients;
  for (const auto& s : config.suppliers()) {
    ASSIGN_OR_RETURN(auto c, connector(s.address(), identity_seed, s.supplier_id()));
    // Pinned at init; vaults made before pinning have none (any key).
    c->PinTlsFingerprint(s.tls_fingerprint());
    clients.push_back(std::move(c));
  }
  return std::make_unique<SupplierSet>(std::move(clients), static_cast<int>(config.data_shards()),
                                       options);
}

SupplierSet::SupplierSet(std::vector<std::unique_ptr<SupplierClient>> clients, int k,
                         Options options)
    : clients_(std::move(clients)), k_(k), options_(options) {
  down_.resize(clients_.size());
  slow_.resize(clients_.size());
  troubles_.resize(clients_.size());
  pools_.resize(clients_.size());
  sent_.reset(new std::atomic<uint64_t>[clients_.size()]);
  for (size_t i = 0; i < clients_.size(); ++i) sent_[i] = 0;
}

SupplierSet::~SupplierSet() {
  // Pools finish their queued tasks (which use clients_) before clients go.
  for (auto& p : pools_) p.reset();
}

ThreadPool* SupplierSet::pool(int position) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!pools_[position]) {
    pools_[position] = std::make_unique<ThreadPool>(options_.threads_per_supplier);
  }
  return pools_[position].get();
}

uint64_t SupplierSet::max_object_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_object_bytes_ == 0 ? protocol::kMaxObjectBytes : max_object_bytes_;
}

void SupplierSet::MarkDown(int position, const absl::Status& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (down_[position].ok()) {
    down_[position] = why.ok() ? absl::UnavailableError("marked down") : why;
  }
}

void SupplierSet::MarkSlow(int position) {
  std::lock_guard<std::mutex> lock(mu_);
  slow_[position] = true;
  troubles_[position].slow++;
}

std::vector<SupplierSet::FetchTrouble> SupplierSet::FetchTroubles() const {
  std::lock_guard<std::mutex> lock(mu_);
  return troubles_;
}

void SupplierSet::NoteFetchError(int position, const absl::Status& err) {
  std::lock_guard<std::mutex> lock(mu_);
  FetchTrouble& t = troubles_[position];
  if (absl::IsUnavailable(err) || absl::IsDeadlineExceeded(err)) {
    t.unreachable++;
  } else if (absl::IsDataLoss(err)) {
    t.corrupt++;
  } else {
    t.other++;
  }
  if (t.first_error.empty()) t.first_error = std::string(err.message());
}

bool SupplierSet::IsSlow(int position) const {
  std::lock_guard<std::mutex> lock(mu_);
  return slow_[position];
}

bool SupplierSet::IsDown(int position) const {
  std::lock_guard<std::mutex> lock(mu_);
  return !down_[position].ok();
}

int SupplierSet::UpCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  int up = 0;
  for (const auto& d : down_) up += d.ok() ? 1 : 0;
  return up;
}

absl::Status SupplierSet::DownReason(int position) const {
  std::lock_guard<std::mutex> lock(mu_);
  return down_[position];
}

std::string SupplierSet::DownSummary() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> parts;
  for (size_t i = 0; i < down_.size(); ++i) {
    if (!down_[i].ok()) {
      std::string msg(down_[i].message());
      // Messages from the client already start with the address.
      if (msg.rfind(clients_[i]->address(), 0) == 0) {
        parts.push_back(msg);
      } else {
        parts.push_back(absl::StrCat(clients_[i]->address(), ": ", msg));
      }
    }
  }
  return absl::StrJoin(parts, "; ");
}

absl::Status SupplierSet::CheckReachable(int min_reachable,
                                         const std::vector<std::string>& expected_ids) {
  Latch latch(n());
  for (int i = 0; i < n(); ++i) {
    pool(i)->Submit([this, i, &expected_ids, &latch] {
      auto info = clients_[i]->Info();
      if (absl::IsUnavailable(info.status())) {
        // One more try: a first connection can fail transiently.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        info = clients_[i]->Info();
      }
      if (info.ok() && info->max_object_bytes() > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        if (max_object_bytes_ == 0 || info->max_object_bytes() < max_object_bytes_) {
          max_object_bytes_ = info->max_object_bytes();
        }
      }
      if (!info.ok()) {
        MarkDown(i, info.status());
      } else if (i < static_cast<int>(expected_ids.size()) && !expected_ids[i].empty() &&
                 info->supplier_id() != expected_ids[i]) {
        MarkDown(i, absl::FailedPreconditionError(
                        absl::StrCat(clients_[i]->address(), ": answers as supplier ",
                                     crypto::ToHex(info->supplier_id()), ", the vault expects ",
                                     crypto::ToHex(expected_ids[i]), " at that address")));
      }
      latch.CountDown();
    });
  }
  latch.Wait();
  int up = UpCount();
  if (up < min_reachable) {
    return WithKind(
        absl::UnavailableError(absl::StrCat("only ", up, " of ", n(), " suppliers answered, ",
                                            min_reachable, " needed: ", DownSummary())),
        ErrorKind::kSuppliersUnreachable);
  }
  return absl::OkStatus();
}

absl::Status SupplierSet::PutObjectEverywhere(const std::string& name, const std::string& data,
                                              int min_ok, const std::string& vault_id) {
  std::mutex mu;
  int ok = 0;
  int unreachable = 0;
  std::vector<std::string> failures;
  Latch latch(n());
  for (int i = 0; i < n(); ++i) {
    if (IsDown(i)) {
      std::lock_guard<std::mutex> lock(mu);
      failures.push_back(absl::StrCat(address(i), ": marked down earlier"));
      ++unreachable;
      latch.CountDown();
      continue;
    }
    pool(i)->Submit([&, i] {
      absl::Status s = clients_[i]->PutObject(name, data, vault_id);
      if (!s.ok() && (absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s))) MarkDown(i, s);
      {
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok()) {
          ++ok;
          sent_[i] += data.size();
        } else {
          failures.push_back(std::string(s.message()));
          if (absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) ++unreachable;
        }
      }
      latch.CountDown();  // last: the caller's locals die once the latch opens
    });
  }
  latch.Wait();
  if (ok >= min_ok) return absl::OkStatus();
  absl::Status err = absl::UnavailableError(
      absl::StrCat("object ", name, " stored on ", ok, " of ", n(), " suppliers, ", min_ok,
                   " needed: ", absl::StrJoin(failures, "; ")));
  if (unreachable > 0 && ok + unreachable >= min_ok) {
    return WithKind(err, ErrorKind::kSuppliersUnreachable);
  }
  return err;
}

absl::StatusOr<std::string> SupplierSet::GetObjectAny(
    const std::string& name, const std::function<absl::Status(const std::string&)>& accept) {
  std::vector<int> order;
  for (int i = 0; i < n(); ++i)
    if (!IsDown(i)) order.push_back(i);
  for (int i = 0; i < n(); ++i)
    if (IsDown(i)) order.push_back(i);
  std::vector<std::string> failures;
  bool any_answer = false;
  for (int i : order) {
    auto data = clients_[i]->GetObject(name);
    if (!data.ok()) {
      if (absl::IsUnavailable(data.status()) || absl::IsDeadlineExceeded(data.status())) {
        MarkDown(i, data.status());
      } else {
        any_answer = true;
      }
      failures.push_back(std::string(data.status().message()));
      continue;
    }
    any_answer = true;
    absl::Status s = accept(*data);
    if (s.ok()) return std::move(*data);
    failures.push_back(absl::StrCat(address(i), ": ", s.message()));
  }
  absl::Status err = absl::NotFoundError(
      absl::StrCat("object ", name, " not available: ", absl::StrJoin(failures, "; ")));
  if (!any_answer) return WithKind(err, ErrorKind::kSuppliersUnreachable);
  return err;
}

absl::StatusOr<std::vector<std::string>> SupplierSet::ListObjectsUnion(
    const std::string& prefix, std::map<std::string, uint64_t>* listed_by) {
  std::mutex mu;
  std::map<std::string, uint64_t> names;
  int answered = 0;
  Latch latch(n());
  for (int i = 0; i < n(); ++i) {
    if (IsDown(i)) {  // its list would only be waited for
      latch.CountDown();
      continue;
    }
    pool(i)->Submit([&, i] {
      auto list = clients_[i]->ListObjects(prefix);
      if (!list.ok()) MarkDown(i, list.status());
      {
        std::lock_guard<std::mutex> lock(mu);
        if (list.ok()) {
          ++answered;
          for (const auto& o : *list) names[o.name()] |= uint64_t{1} << i;
        }
      }
      latch.CountDown();  // last: the caller's locals die once the latch opens
    });
  }
  latch.Wait();
  if (answered == 0) {
    return WithKind(absl::UnavailableError(
                        absl::StrCat("no supplier answered listing ", prefix, ": ", DownSummary())),
                    ErrorKind::kSuppliersUnreachable);
  }
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const auto& [name, mask] : names) out.push_back(name);
  if (listed_by != nullptr) *listed_by = std::move(names);
  return out;
}

void SupplierSet::NoteFetchTime(std::chrono::steady_clock::duration took) {
  std::lock_guard<std::mutex> lock(mu_);
  const double ms = std::chrono::duration<double, std::milli>(took).count();
  fetch_ms_ = fetch_ms_ == 0 ? ms : 0.75 * fetch_ms_ + 0.25 * ms;
}

std::chrono::milliseconds SupplierSet::HedgeAfter() const {
  std::lock_guard<std::mutex> lock(mu_);
  // Twice what a fragment fetch takes now: on a slow link every fetch takes
  // long, and only one much slower than its peers is worth a hedge.
  return std::max(options_.hedge_after,
                  std::chrono::milliseconds(static_cast<int64_t>(2 * fetch_ms_)));
}

void SupplierSet::PutFragmentsAsync(const std::string& block_id,
                                    const std::vector<std::string>* fragments,
                                    const std::vector<std::string>& sha256s,
                                    std::function<void(int, absl::Status)> done) {
  for (int i = 0; i < n(); ++i) {
    if (IsDown(i)) {
      done(i, absl::UnavailableError(absl::StrCat(address(i), ": marked down earlier")));
      continue;
    }
    std::string key = FragmentKey(block_id, i);
    std::string sha = sha256s[i];
    pool(i)->Submit([this, i, key, sha, fragments, done] {
      if (IsDown(i)) {
        done(i, absl::UnavailableError(absl::StrCat(address(i), ": marked down earlier")));
        return;
      }
      absl::Status s = clients_[i]->PutFragment(key, (*fragments)[i], sha);
      if (s.ok()) {
        sent_[i] += (*fragments)[i].size();
      } else {
        MarkDown(i, s);
      }
      done(i, s);
    });
  }
}

namespace {

// Shared between FetchFragments and its tasks, which may outlive the call.
struct FetchState {
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, std::string> good;
  std::vector<std::string> errors;
  std::set<int> waiting;  // positions asked that have not answered yet
  int outstanding = 0;
  int completions = 0;  // answers so far (good or bad)
};

}  // namespace

absl::StatusOr<std::map<int, std::string>> SupplierSet::FetchFragments(
    const vault::v1::BlockRecord& block) {
  const int nn = n();
  if (block.fragment_sha256_size() != nn) {
    return absl::DataLossError(absl::StrCat("block ", crypto::ToHex(block.block_id()),
                                            ": index has ", block.fragment_sha256_size(),
                                            " fragment hashes for ", nn, " suppliers"));
  }
  // Candidates: stored positions, data first; suppliers already down last.
  std::vector<int> up, down;
  for (int i = 0; i < nn; ++i) {
    bool stored = block.stored_mask() == 0 || (block.stored_mask() >> i) & 1;
    if (!stored) continue;
    (IsDown(i) || IsSlow(i) ? down : up).push_back(i);
  }
  std::vector<int> order = up;
  order.insert(order.end(), down.begin(), down.end());

  auto state = std::make_shared<FetchState>();
  size_t next = 0;
  auto launch = [&](int pos) {
    state->outstanding++;
    state->waiting.insert(pos);
    std::string key = FragmentKey(block.block_id(), pos);
    std::string want = block.fragment_sha256(pos);
    uint64_t want_size = block.fragment_size();
    SupplierClient* client = clients_[pos].get();
    pool(pos)->Submit([this, state, pos, key, want, want_size, client] {
      const auto started = std::chrono::steady_clock::now();
      auto data = client->GetFragmentOfSize(key, want_size);
      if (data.ok()) NoteFetchTime(std::chrono::steady_clock::now() - started);
      absl::Status err;
      if (!data.ok()) {
        err = data.status();
        if (absl::IsUnavailable(err) || absl::IsDeadlineExceeded(err)) MarkDown(pos, err);
      } else if (data->size() != want_size || crypto::Sha256(*data) != want) {
        err = absl::DataLossError(
            absl::StrCat(client->address(), ": fragment ", key, " fails its hash check"));
      }
      if (!err.ok()) NoteFetchError(pos, err);
      std::lock_guard<std::mutex> lock(state->mu);
      state->outstanding--;
      state->completions++;
      state->waiting.erase(pos);
      if (err.ok()) {
        state->good.emplace(pos, std::move(*data));
      } else {
        state->errors.push_back(std::string(err.message()));
      }
      state->cv.notify_all();
    });
  };
  std::unique_lock<std::mutex> lock(state->mu);
  for (;;) {
    const int good = static_cast<int>(state->good.size());
    if (good >= k_) break;
    if (good + state->outstanding < k_ && next < order.size()) {
      launch(order[next++]);
      continue;
    }
    if (state->outstanding == 0) break;
    // Wait for an answer. Hedge against a supplier that hangs: when another
    // supplier has answered for this block and the rest stay quiet for
    // hedge_after, ask one more, and put the silent ones last for later
    // blocks. No answer at all is not a reason: on a slow link every
    // fragment takes long, and a hedge would only take bandwidth from the
    // fetches in flight (a supplier that stopped moving data is cut off by
    // the client's stall timeout instead, and the next one is asked then).
    const int seen = state->completions;
    if (!state->cv.wait_for(lock, HedgeAfter(),
                            [&] { return state->completions != seen; }) &&
        state->completions > 0) {
      for (int pos : state->waiting) MarkSlow(pos);
      if (next < order.size()) launch(order[next++]);
    }
  }
  if (static_cast<int>(state->good.size()) < k_) {
    return absl::DataLossError(absl::StrCat(
        "block ", crypto::ToHex(block.block_id()), ": only ", state->good.size(), " of the ", k_,
        " fragments needed could be fetched: ", absl::StrJoin(state->errors, "; ")));
  }
  std::map<int, std::string> out;
  for (auto& [pos, data] : state->good) {
    if (static_cast<int>(out.size()) == k_) break;
    out.emplace(pos, std::move(data));
  }
  return out;
}

}  // namespace shardkeep::customer
