// Fuzzes the supplier's request handling end to end in one process: the real
// SupplierService (authentication, replay guard, validation of keys, names,
// sizes, page sizes, batches) over a real Store (RocksDB and fragment files
// on tmpfs), called through a real gRPC channel on loopback, so streaming
// PutFragment and GetFragment run the real handlers too.
//
// Input: type byte (0..12: fuzz_requests.h; 13: Info; 14: GetKeyRecord),
// flags byte, u64 timestamp (0: the supplier's clock), Field() request bytes,
// the rest = PutFragment data.
//   flags bit 0: re-sign the request with the fuzzing customer's key (fresh
//                nonce, the timestamp above), so fuzzing gets past the signature;
//         bit 1: re-sign with a second customer key instead (no contract);
//         bit 2: PutFragment: set the header's size and SHA-256 to the data's;
//         bit 3: PutFragment: send a second header after the data;
//         bits 4-7: PutFragment: data message size (1 + 4096 * n bytes).
// The supplier clock is fixed at kNowMs, so seeds signed at that time verify
// (once: then their nonce is spent). Properties:
//   - no crash, and every call returns a status;
//   - a request whose signature does not verify (or that has unknown fields)
//     is refused with UNAUTHENTICATED / INVALID_ARGUMENT and changes nothing;
//     a stale one is UNAUTHENTICATED;
//   - a nonce is accepted at most once (no replay);
//   - what succeeds obeys docs/PROTOCOL.md: valid keys and names, limits on
//     sizes, pages and batches, listings sorted, after start_after, under the
//     prefix; a stored fragment or object reads back as sent; an audit digest
//     is SHA-256(nonce || bytes);
//   - after every call, granted <= capacity and each contract's used <= quota.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "common/crypto.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "proto/signing.h"
#include "proto/supplier.grpc.pb.h"
#include "supplier/clock.h"
#include "supplier/limits.h"
#include "supplier/replay_guard.h"
#include "supplier/service.h"
#include "supplier/store.h"
#include "tests/fuzz/fuzz_requests.h"
#include "tests/fuzz/fuzz_store.h"
#include "tests/fuzz/fuzz_util.h"

// SK_FUZZ_DEBUG=1 prints every authenticated call's status.

namespace {

using shardkeep::fuzz::Input;
namespace crypto = shardkeep::crypto;
namespace fuzz = shardkeep::fuzz;
namespace signing = shardkeep::signing;
namespace supplier = shardkeep::supplier;
namespace v1 = shardkeep::v1;
using google::protobuf::Message;

constexpr int64_t kWindowMs = 5 * 60 * 1000;
constexpr uint64_t kCapacity = 16 << 20;

class FixedClock : public supplier::Clock {
 public:
  int64_t NowMs() override { return fuzz::kNowMs; }
};

struct Supplier {
  FixedClock clock;
  std::string dir;
  std::unique_ptr<supplier::Store> store;
  std::unique_ptr<supplier::ReplayGuard> guard;
  std::unique_ptr<supplier::SupplierService> service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<v1::Supplier::Stub> stub;
  std::string customer, other;     // public keys
  std::set<std::string> accepted;  // customer || nonce of every request let through
  uint64_t nonce_counter = 0;
};

Supplier& GetSupplier() {
  static Supplier* s = [] {
    FLAGS_minloglevel = 3;  // the service logs every refusal: far too many here
    auto* s = new Supplier;
    s->customer = crypto::Ed25519PublicKey(fuzz::kCustomerSeed);
    s->other = crypto::Ed25519PublicKey(fuzz::kOtherSeed);
    s->dir = fuzz::MakeScratchDir("supplier-fuzz");
    // Plant the supplier ID that seeds were signed for.
    FUZZ_CHECK(
        fuzz::WriteStoreDb(s->dir, {{0, "supplier_id", fuzz::kSupplierId}, {0, "format", "1"}}));
    // A database without its fragments directory is refused at start.
    std::filesystem::create_directories(s->dir + "/fragments");
    supplier::StoreOptions options;
    options.capacity_bytes = kCapacity;
    options.max_fragment_bytes = 1 << 20;
    options.clock = &s->clock;
    options.direct_io = false;
    auto store = supplier::Store::Open(s->dir, std::move(options));
    FUZZ_CHECK(store.ok());
    s->store = std::move(*store);
    FUZZ_CHECK(s->store->supplier_id() == fuzz::kSupplierId);
    s->guard = std::make_unique<supplier::ReplayGuard>(s->store.get(), &s->clock, kWindowMs);
    FUZZ_CHECK(s->guard->Load().ok());
    s->service =
        std::make_unique<supplier::SupplierService>(s->store.get(), s->guard.get(), &s->clock);
    // Loopback TCP, not the in-process transport: with that one (gRPC 1.51) a
    // client stream whose server handler returns early (a refused upload)
    // can deadlock the client's next Write.
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(s->service.get());
    builder.SetMaxReceiveMessageSize(supplier::kMaxMessageBytes);
    builder.SetMaxSendMessageSize(supplier::kMaxMessageBytes);
    s->server = builder.BuildAndStart();
    FUZZ_CHECK(s->server != nullptr && port != 0);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(supplier::kMaxMessageBytes);
    args.SetMaxSendMessageSize(supplier::kMaxMessageBytes);
    s->stub = v1::Supplier::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
    std::atexit([] { fuzz::RemoveTree(GetSupplier().dir); });
    return s;
  }();
  return *s;
}

struct Snapshot {
  supplier::Totals totals;
  std::string customer_contract, other_contract;
  bool operator==(const Snapshot& o) const {
    return totals.capacity_bytes == o.totals.capacity_bytes &&
           totals.granted_bytes == o.totals.granted_bytes &&
           totals.used_bytes == o.totals.used_bytes && totals.customers == o.totals.customers &&
           customer_contract == o.customer_contract && other_contract == o.other_contract;
  }
};

std::string ContractBytes(Supplier& s, const std::string& who) {
  auto c = s.store->GetContract(who);
  return c.ok() ? c->SerializeAsString() : std::string(c.status().message());
}

Snapshot Take(Supplier& s) {
  return {s.store->GetTotals(), ContractBytes(s, s.customer), ContractBytes(s, s.other)};
}

void CheckInvariants(Supplier& s) {
  const supplier::Totals t = s.store->GetTotals();
  FUZZ_CHECK(t.capacity_bytes == kCapacity);
  FUZZ_CHECK(t.granted_bytes <= t.capacity_bytes);
  FUZZ_CHECK(t.used_bytes <= t.granted_bytes);
  for (const std::string& who : {s.customer, s.other}) {
    auto c = s.store->GetContract(who);
    if (c.ok()) FUZZ_CHECK(c->used_bytes() <= c->quota_bytes());
  }
}

template <typename Info>
void CheckListing(const google::protobuf::RepeatedPtrField<Info>& items,
                  const std::string& (Info::*name)() const, const std::string& prefix,
                  const std::string& start_after, uint32_t page_size, bool more) {
  const uint32_t limit = page_size == 0 ? supplier::kMaxPageSize : page_size;
  FUZZ_CHECK(page_size <= supplier::kMaxPageSize);
  FUZZ_CHECK(static_cast<uint32_t>(items.size()) <= limit);
  if (more) FUZZ_CHECK(static_cast<uint32_t>(items.size()) == limit);
  std::string last = start_after;
  bool first = true;
  for (const Info& i : items) {
    const std::string& n = (i.*name)();
    FUZZ_CHECK(n.compare(0, prefix.size(), prefix) == 0);
    if (!first || !start_after.empty()) FUZZ_CHECK(n > last);
    last = n;
    first = false;
  }
}

bool ValidKey(const std::string& k) { return supplier::CheckFragmentKey(k).ok(); }
bool ValidName(const std::string& n) { return supplier::CheckObjectName(n).ok(); }

grpc::Status PutFragment(Supplier& s, const v1::FragmentHeader& header, std::string_view data,
                         uint8_t flags, v1::PutFragmentResponse* resp) {
  grpc::ClientContext ctx;
  auto writer = s.stub->PutFragment(&ctx, resp);
  v1::PutFragmentChunk chunk;
  *chunk.mutable_header() = header;
  bool open = writer->Write(chunk);
  const size_t piece = 1 + 4096 * static_cast<size_t>(flags >> 4);
  for (size_t off = 0; open && off < data.size(); off += piece) {
    chunk.Clear();
    chunk.set_data(std::string(data.substr(off, piece)));
    open = writer->Write(chunk);
  }
  if (open && (flags & 8)) {
    chunk.Clear();
    *chunk.mutable_header() = header;
    writer->Write(chunk);
  }
  writer->WritesDone();
  return writer->Finish();
}

// Calls method `type` with `req`; checks what a success promises.
grpc::Status Call(Supplier& s, size_t type, Message& req, std::string_view data, uint8_t flags,
                  const std::string& caller) {
  grpc::ClientContext ctx;
  switch (type) {
    case 0: {
      auto& r = static_cast<v1::ContractRequest&>(req);
      v1::ContractResponse resp;
      grpc::Status st = s.stub->RequestContract(&ctx, r, &resp);
      if (st.ok()) {
        FUZZ_CHECK(r.needed_bytes() > 0 && r.supplier_count() >= 1 &&
                   r.supplier_count() <= supplier::kMaxSupplierCount &&
                   r.position() < r.supplier_count());
        FUZZ_CHECK(resp.contract().quota_bytes() == r.needed_bytes());
        FUZZ_CHECK(resp.contract().customer_key() == caller);
      }
      return st;
    }
    case 1: {
      v1::ContractResponse resp;
      return s.stub->GetContract(&ctx, static_cast<v1::GetContractRequest&>(req), &resp);
    }
    case 2: {
      v1::ContractResponse resp;
      return s.stub->RenewContract(&ctx, static_cast<v1::RenewRequest&>(req), &resp);
    }
    case 3: {
      v1::CancelResponse resp;
      return s.stub->CancelContract(&ctx, static_cast<v1::CancelRequest&>(req), &resp);
    }
    case 4: {
      auto& h = static_cast<v1::FragmentHeader&>(req);
      v1::PutFragmentResponse resp;
      grpc::Status st = PutFragment(s, h, data, flags, &resp);
      if (st.ok()) {
        FUZZ_CHECK(ValidKey(h.key()) && h.size() <= (1 << 20) && h.sha256().size() == 32);
        FUZZ_CHECK(resp.used_bytes() <= resp.quota_bytes());
        if (!resp.already_present()) {
          FUZZ_CHECK(!(flags & 8));
          FUZZ_CHECK(h.size() == data.size() && h.sha256() == crypto::Sha256(data));
        }
        auto f = s.store->OpenFragment(caller, h.key());
        FUZZ_CHECK(f.ok() && f->record.size() == h.size() && f->record.sha256() == h.sha256());
      }
      return st;
    }
    case 5: {
      auto& r = static_cast<v1::GetFragmentRequest&>(req);
      auto reader = s.stub->GetFragment(&ctx, r);
      v1::FragmentData msg;
      std::string all, sha;
      uint64_t declared = 0;
      bool first = true;
      while (reader->Read(&msg)) {
        if (first) {
          declared = msg.size();
          sha = msg.sha256();
          first = false;
        }
        FUZZ_CHECK(msg.data().size() <= supplier::kMaxDataPerMessage);
        all += msg.data();
      }
      grpc::Status st = reader->Finish();
      if (st.ok()) {
        FUZZ_CHECK(ValidKey(r.key()) && !first);
        FUZZ_CHECK(all.size() == declared && crypto::Sha256(all) == sha);
      }
      return st;
    }
    case 6: {
      auto& r = static_cast<v1::ListFragmentsRequest&>(req);
      v1::ListFragmentsResponse resp;
      grpc::Status st = s.stub->ListFragments(&ctx, r, &resp);
      if (st.ok()) {
        CheckListing(resp.fragments(), &v1::FragmentInfo::key, r.prefix(), r.start_after(),
                     r.page_size(), resp.more());
      }
      return st;
    }
    case 7: {
      auto& r = static_cast<v1::DeleteFragmentsRequest&>(req);
      v1::DeleteFragmentsResponse resp;
      grpc::Status st = s.stub->DeleteFragments(&ctx, r, &resp);
      if (st.ok()) {
        FUZZ_CHECK(static_cast<size_t>(r.keys_size()) <= supplier::kMaxDeleteBatch);
        for (const auto& k : r.keys()) FUZZ_CHECK(ValidKey(k));
        FUZZ_CHECK(resp.deleted() <= static_cast<uint32_t>(r.keys_size()));
        for (const auto& k : r.keys()) FUZZ_CHECK(!s.store->OpenFragment(caller, k).ok());
      }
      return st;
    }
    case 8: {
      auto& r = static_cast<v1::AuditRequest&>(req);
      v1::AuditResponse resp;
      grpc::Status st = s.stub->AuditFragment(&ctx, r, &resp);
      if (st.ok()) {
        FUZZ_CHECK(ValidKey(r.key()));
        FUZZ_CHECK(r.nonce().size() >= supplier::kMinAuditNonce &&
                   r.nonce().size() <= supplier::kMaxAuditNonce);
        auto f = s.store->OpenFragment(caller, r.key());
        FUZZ_CHECK(f.ok());
        std::string bytes;
        FUZZ_CHECK(f->reader->ReadAt(0, f->record.size(), &bytes).ok());
        FUZZ_CHECK(resp.digest() == crypto::Sha256(r.nonce() + bytes));
      }
      return st;
    }
    case 9: {
      auto& r = static_cast<v1::PutObjectRequest&>(req);
      v1::PutObjectResponse resp;
      grpc::Status st = s.stub->PutObject(&ctx, r, &resp);
      if (st.ok()) {
        FUZZ_CHECK(ValidName(r.name()) && r.data().size() <= supplier::kMaxObjectBytes);
        FUZZ_CHECK(r.vault_id().size() <= supplier::kMaxVaultIdLength);
        FUZZ_CHECK(r.vault_id().empty() || r.name() == supplier::kKeyRecordName);
        FUZZ_CHECK(resp.used_bytes() <= resp.quota_bytes());
        auto back = s.store->GetObject(caller, r.name());
        FUZZ_CHECK(back.ok() && *back == r.data());
        if (!r.vault_id().empty()) {
          auto kr = s.store->GetKeyRecord(r.vault_id());
          FUZZ_CHECK(kr.ok() && kr->size() <= shardkeep::protocol::kMaxKeyRecordCandidates);
          bool mine = false;
          for (const auto& c : *kr) mine |= c.customer_key == caller && c.data == r.data();
          FUZZ_CHECK(mine);
        }
      }
      return st;
    }
    case 10: {
      auto& r = static_cast<v1::GetObjectRequest&>(req);
      v1::GetObjectResponse resp;
      grpc::Status st = s.stub->GetObject(&ctx, r, &resp);
      if (st.ok()) {
        FUZZ_CHECK(ValidName(r.name()));
        auto back = s.store->GetObject(caller, r.name());
        FUZZ_CHECK(back.ok() && *back == resp.data());
      }
      return st;
    }
    case 11: {
      auto& r = static_cast<v1::ListObjectsRequest&>(req);
      v1::ListObjectsResponse resp;
      grpc::Status st = s.stub->ListObjects(&ctx, r, &resp);
      if (st.ok()) {
        CheckListing(resp.objects(), &v1::ObjectInfo::name, r.prefix(), r.start_after(),
                     r.page_size(), resp.more());
      }
      return st;
    }
    default: {
      auto& r = static_cast<v1::DeleteObjectsRequest&>(req);
      v1::DeleteObjectsResponse resp;
      grpc::Status st = s.stub->DeleteObjects(&ctx, r, &resp);
      if (st.ok()) {
        FUZZ_CHECK(static_cast<size_t>(r.names_size()) <= supplier::kMaxDeleteBatch);
        for (const auto& n : r.names()) {
          FUZZ_CHECK(ValidName(n));
          FUZZ_CHECK(!s.store->GetObject(caller, n).ok());
        }
      }
      return st;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Supplier& s = GetSupplier();
  const auto& types = fuzz::AuthRequestTypes();
  Input in(data, size);
  const size_t type = in.Byte() % (types.size() + 2);
  const uint8_t flags = in.Byte();
  const uint64_t raw_ts = in.U64();
  const int64_t timestamp = raw_ts == 0 ? fuzz::kNowMs : static_cast<int64_t>(raw_ts);
  const std::string_view body = in.Field();
  const std::string_view rest = in.Rest();
  // Keep the fuzzing customer under contract, so calls get past the contract check.
  if (absl::IsNotFound(s.store->GetContract(s.customer).status())) {
    s.store->RequestContract(s.customer, 4 << 20, 0, 4).IgnoreError();
  }

  if (type == types.size()) {  // Info: unauthenticated
    v1::InfoRequest req;
    if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) return 0;
    grpc::ClientContext ctx;
    v1::InfoResponse resp;
    grpc::Status st = s.stub->Info(&ctx, req, &resp);
    FUZZ_CHECK(st.ok() == supplier::CheckNoUnknownFields(req).ok());
    if (st.ok()) {
      FUZZ_CHECK(resp.supplier_id() == fuzz::kSupplierId && resp.now_ms() == fuzz::kNowMs);
      FUZZ_CHECK(resp.granted_bytes() <= resp.capacity_bytes());
    }
    return 0;
  }
  if (type == types.size() + 1) {  // GetKeyRecord: unauthenticated
    v1::GetKeyRecordRequest req;
    if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) return 0;
    grpc::ClientContext ctx;
    v1::GetKeyRecordResponse resp;
    grpc::Status st = s.stub->GetKeyRecord(&ctx, req, &resp);
    if (st.ok()) {
      FUZZ_CHECK(!req.vault_id().empty() && req.vault_id().size() <= supplier::kMaxVaultIdLength);
      auto kr = s.store->GetKeyRecord(req.vault_id());
      FUZZ_CHECK(kr.ok() && kr->size() == static_cast<size_t>(resp.candidates_size()));
      for (size_t i = 0; i < kr->size(); ++i) {
        FUZZ_CHECK((*kr)[i].data == resp.candidates(i).data() &&
                   (*kr)[i].customer_key == resp.candidates(i).customer_key());
      }
    }
    return 0;
  }

  std::unique_ptr<Message> req = types[type].make();
  if (!req->ParseFromArray(body.data(), static_cast<int>(body.size()))) return 0;
  if (type == 4 && (flags & 4)) {
    auto* h = static_cast<v1::FragmentHeader*>(req.get());
    h->set_size(rest.size());
    h->set_sha256(crypto::Sha256(rest));
  }
  if (flags & 3) {
    std::string nonce(signing::kNonceSize, '\0');
    uint64_t n = ++s.nonce_counter;
    for (int i = 0; i < 8; ++i) nonce[i] = static_cast<char>(n >> (8 * i));
    nonce[15] = 'F';  // never one of seed_gen's nonces
    signing::SignAuth(types[type].method, fuzz::kSupplierId,
                      (flags & 2) ? fuzz::kOtherSeed : fuzz::kCustomerSeed, *req, timestamp, nonce,
                      fuzz::MutableAuth(req.get()));
  }
  const v1::Auth auth = fuzz::GetAuth(*req);
  const bool verified = fuzz::HasAuth(*req) &&
                        signing::VerifyAuth(types[type].method, fuzz::kSupplierId, *req, auth).ok();
  const bool known_fields = supplier::CheckNoUnknownFields(*req).ok();
  const bool fresh = auth.timestamp_ms() >= fuzz::kNowMs - kWindowMs &&
                     auth.timestamp_ms() <= fuzz::kNowMs + kWindowMs;

  const Snapshot before = Take(s);
  const bool had_contract = s.store->HasContract(auth.customer_key());
  grpc::Status st = Call(s, type, *req, rest, flags, auth.customer_key());
  const grpc::StatusCode code = st.error_code();
  if (std::getenv("SK_FUZZ_DEBUG") != nullptr) {  // to see why an input is refused
    std::fprintf(stderr, "%s: %d %s\n", types[type].method, static_cast<int>(code),
                 st.error_message().c_str());
  }

  if (!verified || !known_fields) {
    // Refused before anything happens.
    FUZZ_CHECK(code == grpc::StatusCode::UNAUTHENTICATED ||
               code == grpc::StatusCode::INVALID_ARGUMENT);
    FUZZ_CHECK(Take(s) == before);
  } else if (!fresh) {
    FUZZ_CHECK(code == grpc::StatusCode::UNAUTHENTICATED);
    FUZZ_CHECK(Take(s) == before);
  } else if (!had_contract && std::string(types[type].method) != shardkeep::signing::method::kRequestContract) {
    // Without a contract only RequestContract gets past the door; nothing,
    // not even the nonce, is recorded (issue 11).
    FUZZ_CHECK(code == grpc::StatusCode::PERMISSION_DENIED ||
               code == grpc::StatusCode::NOT_FOUND);
    FUZZ_CHECK(Take(s) == before);
  } else {
    const std::string id = auth.customer_key() + auth.nonce();
    if (code == grpc::StatusCode::UNAUTHENTICATED) {
      FUZZ_CHECK(s.accepted.count(id));  // refused only as a replay
      FUZZ_CHECK(Take(s) == before);
    } else {
      FUZZ_CHECK(s.accepted.insert(id).second);  // never accepted twice
    }
  }
  CheckInvariants(s);
  return 0;
}
