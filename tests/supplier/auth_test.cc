// Authentication, isolation between customers and refusal of bad input,
// against real supplier processes.
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/signing.h"
#include "proto/supplier.pb.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

namespace v1 = shardkeep::v1;
namespace m = signing::method;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;

// Sends an already-signed request through the raw stub.
template <typename Req, typename Resp>
absl::Status Send(SupplierClient& c,
                  grpc::Status (v1::Supplier::Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& req) {
  Resp resp;
  auto ctx = c.Context();
  return FromGrpc((c.stub()->*rpc)(ctx.get(), req, &resp));
}

TEST(SupplierAuth, TwoCustomersAreIsolatedInEveryCall) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  auto b = Connect(*cluster, 0, 'b');
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->RequestContract(4 * kMiB).ok());
  ASSERT_TRUE(b->RequestContract(kMiB).ok());
  const std::string a_data = RandomData(300000, 1);
  ASSERT_TRUE(a->PutFragment("shared-name", a_data).ok());
  ASSERT_TRUE(a->PutObject("snapshots/1", "a-snapshot").ok());
  ASSERT_TRUE(a->PutObject("keys", "a-key-record", "vault-of-a").ok());

  // b sees none of a's fragments or objects, by any call.
  EXPECT_EQ(Code(b->GetFragment("shared-name")), absl::StatusCode::kNotFound);
  EXPECT_EQ(b->ListFragments()->fragments_size(), 0);
  EXPECT_EQ(Code(b->AuditFragment("shared-name", std::string(16, 'n'))),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Code(b->GetObject("snapshots/1")), absl::StatusCode::kNotFound);
  EXPECT_EQ(b->ListObjects()->objects_size(), 0);
  auto del = b->DeleteFragments({"shared-name"});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted(), 0u);
  EXPECT_EQ(del->not_found_size(), 1);
  auto delo = b->DeleteObjects({"snapshots/1", "keys"});
  ASSERT_TRUE(delo.ok());
  EXPECT_EQ(delo->deleted(), 0u);
  // b's own fragment under the same key is b's alone; a's is untouched.
  const std::string b_data = RandomData(1000, 2);
  ASSERT_TRUE(b->PutFragment("shared-name", b_data).ok());
  EXPECT_EQ(*b->GetFragment("shared-name"), b_data);
  EXPECT_EQ(*a->GetFragment("shared-name"), a_data);
  // b's claim on a's vault ID only adds b's own candidate after a's, and b
  // cannot exceed its own quota using a's.
  ASSERT_TRUE(b->PutObject("keys", "b-key-record", "vault-of-a").ok());
  auto claims = a->GetKeyRecord("vault-of-a");
  ASSERT_TRUE(claims.ok()) << claims.status();
  ASSERT_EQ(claims->candidates_size(), 2);
  EXPECT_EQ(claims->candidates(0).data(), "a-key-record");
  EXPECT_EQ(claims->candidates(0).customer_key(), a->customer_key());
  EXPECT_EQ(claims->candidates(1).customer_key(), b->customer_key());
  EXPECT_EQ(Code(b->PutFragment("big", RandomData(kMiB, 3))), absl::StatusCode::kResourceExhausted);
  // b cancelling ends only b's contract.
  ASSERT_TRUE(b->CancelContract().ok());
  EXPECT_EQ(*a->GetFragment("shared-name"), a_data);
  EXPECT_EQ(*a->GetObject("snapshots/1"), "a-snapshot");
  ASSERT_EQ(a->GetKeyRecord("vault-of-a")->candidates_size(), 1);
  EXPECT_EQ(a->GetKeyRecord("vault-of-a")->candidates(0).data(), "a-key-record");
  auto contract = a->GetContract();
  // Each item costs at least 4 KiB, plus its name.
  EXPECT_EQ(contract->used_bytes(), (a_data.size() + 11) + (4096 + 11) + (4096 + 4));
  auto list = a->ListObjects();
  ASSERT_EQ(list->objects_size(), 2);
  EXPECT_EQ(list->objects(0).name(), "keys");
  EXPECT_EQ(list->objects(1).name(), "snapshots/1");
}

TEST(SupplierAuth, ReplayedRequestsAreRefusedAlsoAfterRestartAndKill) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(kMiB).ok());
  ASSERT_TRUE(a->PutObject("o", "v1").ok());

  v1::DeleteObjectsRequest del;
  del.add_names("o");
  a->Sign(m::kDeleteObjects, &del);
  ASSERT_TRUE(Send(*a, &v1::Supplier::Stub::DeleteObjects, del).ok());
  ASSERT_TRUE(a->PutObject("o", "v2").ok());
  absl::Status replay = Send(*a, &v1::Supplier::Stub::DeleteObjects, del);
  EXPECT_EQ(replay.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(replay.message()), HasSubstr("replayed"));
  EXPECT_EQ(*a->GetObject("o"), "v2");

  // A replayed upload header is refused too (and stores nothing).
  {
    v1::PutObjectRequest put;
    put.set_name("p");
    put.set_data("first");
    a->Sign(m::kPutObject, &put);
    ASSERT_TRUE(Send(*a, &v1::Supplier::Stub::PutObject, put).ok());
    ASSERT_TRUE(a->DeleteObjects({"p"}).ok());
    EXPECT_EQ(Send(*a, &v1::Supplier::Stub::PutObject, put).code(),
              absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(Code(a->GetObject("p")), absl::StatusCode::kNotFound);
  }

  // The nonces survive a clean restart and a kill -9.
  v1::DeleteObjectsRequest del2;
  del2.add_names("o");
  a->Sign(m::kDeleteObjects, &del2);
  ASSERT_TRUE(Send(*a, &v1::Supplier::Stub::DeleteObjects, del2).ok());
  ASSERT_TRUE(a->PutObject("o", "v3").ok());
  v1::GetContractRequest read;
  a->Sign(m::kGetContract, &read);
  ASSERT_TRUE(Send(*a, &v1::Supplier::Stub::GetContract, read).ok());

  ASSERT_TRUE(cluster->Restart(0).ok());
  EXPECT_EQ(Send(*a, &v1::Supplier::Stub::DeleteObjects, del2).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Send(*a, &v1::Supplier::Stub::GetContract, read).code(),
            absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(cluster->Kill(0).ok());
  ASSERT_TRUE(cluster->Restart(0).ok());
  auto a2 = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a2);
  EXPECT_EQ(Send(*a2, &v1::Supplier::Stub::DeleteObjects, del2).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Send(*a2, &v1::Supplier::Stub::GetContract, read).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(*a2->GetObject("o"), "v3");
}

TEST(SupplierAuth, TamperedForgedStaleAndMisdirectedRequestsAreRefused) {
  auto cluster = StartCluster(2);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  auto a_at_1 = Connect(*cluster, 1, 'a');
  ASSERT_TRUE(a && a_at_1);
  ASSERT_TRUE(a->RequestContract(kMiB).ok());
  ASSERT_TRUE(a->PutFragment("x", "xxx").ok());
  ASSERT_TRUE(a->PutFragment("y", "yyy").ok());
  const uint64_t used = a->GetContract()->used_bytes();
  auto unauthenticated = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kUnauthenticated;
  };

  // Content changed after signing.
  v1::DeleteFragmentsRequest del;
  del.add_keys("x");
  a->Sign(m::kDeleteFragments, &del);
  del.set_keys(0, "y");
  EXPECT_TRUE(unauthenticated(Send(*a, &v1::Supplier::Stub::DeleteFragments, del)));
  // Signed for another method with the same content (both empty but auth).
  v1::CancelRequest cancel;
  a->Sign(m::kGetContract, &cancel);
  EXPECT_TRUE(unauthenticated(Send(*a, &v1::Supplier::Stub::CancelContract, cancel)));
  // Signed for another supplier.
  v1::DeleteFragmentsRequest elsewhere;
  elsewhere.add_keys("x");
  a_at_1->Sign(m::kDeleteFragments, &elsewhere);
  EXPECT_TRUE(unauthenticated(Send(*a, &v1::Supplier::Stub::DeleteFragments, elsewhere)));
  // Signed by b's key but claiming to be a.
  v1::DeleteFragmentsRequest forged;
  forged.add_keys("x");
  signing::Sign(m::kDeleteFragments, a->supplier_id(), Seed('b'), &forged, a->NowMs());
  forged.mutable_auth()->set_customer_key(a->customer_key());
  EXPECT_TRUE(unauthenticated(Send(*a, &v1::Supplier::Stub::DeleteFragments, forged)));
  // Stale and future timestamps (the window is 5 minutes).
  for (int64_t skew : {-6 * 60 * 1000, 6 * 60 * 1000}) {
    v1::DeleteFragmentsRequest req;
    req.add_keys("x");
    signing::Sign(m::kDeleteFragments, a->supplier_id(), Seed('a'), &req, a->NowMs() + skew);
    absl::Status s = Send(*a, &v1::Supplier::Stub::DeleteFragments, req);
    EXPECT_TRUE(unauthenticated(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("window"));
  }
  // No auth, short key, short signature, short nonce.
  v1::DeleteFragmentsRequest none;
  none.add_keys("x");
  EXPECT_TRUE(unauthenticated(Send(*a, &v1::Supplier::Stub::DeleteFragments, none)));
  for (int field = 0; field < 3; ++field) {
    v1::DeleteFragmentsRequest req;
    req.add_keys("x");
    a->Sign(m::kDeleteFragments, &req);
    v1::Auth* auth = req.mutable_auth();
    if (field == 0) auth->set_customer_key("short");
    if (field == 1) auth->set_signature(auth->signature().substr(1));
    if (field == 2) auth->set_nonce("n");
    EXPECT_TRUE(unauthenticated(Send(*a, &v1::Supplier::Stub::DeleteFragments, req)));
  }
  // A tampered upload header (size changed after signing) stores nothing.
  {
    const std::string data = "zzzz";
    v1::PutFragmentResponse resp;
    auto ctx = a->Context();
    auto writer = a->stub()->PutFragment(ctx.get(), &resp);
    v1::PutFragmentChunk chunk;
    v1::FragmentHeader* h = chunk.mutable_header();
    h->set_key("z");
    h->set_size(3);
    h->set_sha256(crypto::Sha256("zzz"));
    a->Sign(m::kPutFragment, h);
    h->set_size(4);
    h->set_sha256(crypto::Sha256(data));
    if (writer->Write(chunk)) {
      chunk.set_data(data);
      writer->Write(chunk);
      writer->WritesDone();
    }
    EXPECT_TRUE(unauthenticated(FromGrpc(writer->Finish())));
  }
  // Nothing changed.
  EXPECT_TRUE(a->GetFragment("x").ok());
  EXPECT_TRUE(a->GetFragment("y").ok());
  EXPECT_EQ(Code(a->GetFragment("z")), absl::StatusCode::kNotFound);
  EXPECT_EQ(a->GetContract()->used_bytes(), used);
  EXPECT_EQ(a->GetContract()->quota_bytes(), kMiB);
}

TEST(SupplierAuth, GarbageOversizeAndMalformedInputGetsAClearStatusAndTheDaemonStaysUp) {
  auto cluster = StartCluster(1, {.extra_flags = {"--max-fragment-size=2MiB"}});
  ASSERT_TRUE(cluster);
  const pid_t pid = cluster->Pid(0);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(16 * kMiB).ok());
  ASSERT_TRUE(a->PutFragment("keep", "kept").ok());
  auto invalid = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kInvalidArgument;
  };

  // Bytes that are not protobuf at all, to every method.
  std::mt19937 rng(7);
  const char* methods[] = {m::kInfo,          m::kRequestContract, m::kPutObject,
                           m::kGetObject,     m::kDeleteFragments, m::kListFragments,
                           m::kAuditFragment, m::kGetKeyRecord,    m::kCancelContract};
  for (int i = 0; i < 200; ++i) {
    std::string junk(rng() % 300, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    auto r = a->RawUnaryCall(methods[i % 9], junk);
    // Unparsable: INVALID_ARGUMENT; parsable but unsigned: UNAUTHENTICATED;
    // the unauthenticated calls: OK, INVALID_ARGUMENT or NOT_FOUND.
    absl::StatusCode code = r.status().code();
    EXPECT_TRUE(code == absl::StatusCode::kOk || code == absl::StatusCode::kInvalidArgument ||
                code == absl::StatusCode::kUnauthenticated || code == absl::StatusCode::kNotFound)
        << methods[i % 9] << ": " << r.status();
  }
  auto garbage = a->RawUnaryCall(m::kPutObject, "\xff\xff\xff\xff garbage");
  EXPECT_TRUE(invalid(garbage.status())) << garbage.status();
  EXPECT_THAT(std::string(garbage.status().message()), HasSubstr("not a valid protobuf"));
  // A well-formed but unsigned write of garbage is refused as unauthenticated.
  EXPECT_EQ(Code(a->RawUnaryCall(m::kCancelContract, "")), absl::StatusCode::kUnauthenticated);

  // Oversize: a message above gRPC's limit, a data message above 1 MiB, an
  // object above 1 MiB, a fragment above --max-fragment-size.
  EXPECT_EQ(Code(a->PutObject("big", std::string(2 * kMiB, 'x'))),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(invalid(a->PutObject("big", std::string(kMiB + 1, 'x')).status()));
  {
    SupplierClientOptions o;
    o.message_bytes = kMiB + 1;
    auto big = SupplierClient::Connect(cluster->Address(0), Seed('a'), o);
    ASSERT_TRUE(big.ok());
    EXPECT_TRUE(invalid((*big)->PutFragment("f", RandomData(kMiB + 2, 1)).status()));
  }
  auto too_big = a->PutFragment("f", RandomData(2 * kMiB + 1, 1));
  EXPECT_TRUE(invalid(too_big.status())) << too_big.status();
  EXPECT_THAT(std::string(too_big.status().message()), HasSubstr("limit"));

  // Unknown fields, at top level and inside auth.
  {
    v1::PutObjectRequest req;
    req.set_name("o");
    req.set_data("d");
    req.GetReflection()->MutableUnknownFields(&req)->AddVarint(99, 1);
    a->Sign(m::kPutObject, &req);
    absl::Status s = Send(*a, &v1::Supplier::Stub::PutObject, req);
    EXPECT_TRUE(invalid(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("unknown fields"));
    v1::GetContractRequest req2;
    a->Sign(m::kGetContract, &req2);
    req2.mutable_auth()
        ->GetReflection()
        ->MutableUnknownFields(req2.mutable_auth())
        ->AddVarint(9, 1);
    EXPECT_TRUE(invalid(Send(*a, &v1::Supplier::Stub::GetContract, req2)));
  }

  // Bad names, sizes and counts.
  for (const std::string& key : {std::string(), std::string("../etc"), std::string("a b"),
                                 std::string(129, 'k'), std::string("k\0k", 3)}) {
    EXPECT_TRUE(invalid(a->PutFragment(key, "x").status())) << key;
    EXPECT_TRUE(invalid(a->GetFragment(key).status())) << key;
  }
  EXPECT_TRUE(invalid(a->PutObject("", "x").status()));
  EXPECT_TRUE(invalid(a->PutObject(std::string(201, 'o'), "x").status()));
  EXPECT_TRUE(invalid(a->ListFragments("", "", 1001).status()));
  EXPECT_TRUE(invalid(a->ListObjects("", "", 5000).status()));
  EXPECT_TRUE(invalid(a->DeleteFragments(std::vector<std::string>(1001, "k")).status()));
  EXPECT_TRUE(invalid(a->AuditFragment("keep", "short").status()));
  EXPECT_TRUE(invalid(a->AuditFragment("keep", std::string(65, 'n')).status()));
  EXPECT_TRUE(invalid(a->GetKeyRecord("").status()));
  EXPECT_TRUE(invalid(a->GetKeyRecord(std::string(65, 'v')).status()));
  EXPECT_TRUE(invalid(a->PutObject("notkeys", "x", "vault").status()));
  EXPECT_TRUE(invalid(a->RequestContract(kMiB, 4, 4).status()));
  EXPECT_TRUE(invalid(a->RequestContract(kMiB, 0, 0).status()));
  EXPECT_TRUE(invalid(a->RequestContract(0, 0, 1).status()));

  // Malformed upload streams.
  auto stream = [&](const std::vector<v1::PutFragmentChunk>& chunks) {
    v1::PutFragmentResponse resp;
    auto ctx = a->Context();
    auto writer = a->stub()->PutFragment(ctx.get(), &resp);
    for (const auto& c : chunks) {
      if (!writer->Write(c)) break;
    }
    writer->WritesDone();
    return FromGrpc(writer->Finish());
  };
  auto header = [&](const std::string& key, const std::string& data) {
    v1::PutFragmentChunk c;
    c.mutable_header()->set_key(key);
    c.mutable_header()->set_size(data.size());
    c.mutable_header()->set_sha256(crypto::Sha256(data));
    a->Sign(m::kPutFragment, c.mutable_header());
    return c;
  };
  auto data = [](const std::string& d) {
    v1::PutFragmentChunk c;
    c.set_data(d);
    return c;
  };
  EXPECT_TRUE(invalid(stream({})));                                          // empty stream
  EXPECT_TRUE(invalid(stream({data("abc")})));                               // data before header
  EXPECT_TRUE(invalid(stream({header("s1", "abc"), header("s1", "abc")})));  // two headers
  EXPECT_TRUE(invalid(stream({header("s2", "abc"), data("abcd")})));         // too long
  EXPECT_TRUE(invalid(stream({header("s3", "abc"), data("ab")})));           // too short
  absl::Status mismatch = stream({header("s4", "abc"), data("abd")});        // wrong hash
  EXPECT_TRUE(invalid(mismatch));
  EXPECT_THAT(std::string(mismatch.message()), HasSubstr("SHA-256"));
  {
    v1::PutFragmentChunk bad_sha = header("s5", "abc");
    bad_sha.mutable_header()->set_sha256("short");
    a->Sign(m::kPutFragment, bad_sha.mutable_header());
    EXPECT_TRUE(invalid(stream({bad_sha, data("abc")})));
  }

  // The daemon is the same process, still serving, and nothing changed.
  EXPECT_EQ(cluster->Pid(0), pid);
  EXPECT_TRUE(a->Info().ok());
  auto list = a->ListFragments();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->fragments_size(), 1);
  EXPECT_EQ(list->fragments(0).key(), "keep");
  EXPECT_EQ(a->GetContract()->used_bytes(), 4096u + 4);  // the minimum charge + "keep"
  EXPECT_EQ(FragmentFilesOnDisk(*cluster, 0), 1);
  // Refusals are logged.
  std::string log = cluster->LogTail(0, 1 << 20);
  EXPECT_THAT(log, HasSubstr("refused method=PutFragment"));
  EXPECT_THAT(log, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(log, HasSubstr("not a valid protobuf message"));
}

TEST(SupplierAuth, KeyRecordIsReadableByVaultIdWithoutASignature) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  auto stranger = Connect(*cluster, 0, 'z');  // no contract
  ASSERT_TRUE(a && stranger);
  EXPECT_EQ(Code(stranger->GetKeyRecord("unknown-vault")), absl::StatusCode::kNotFound);
  ASSERT_TRUE(a->RequestContract(kMiB).ok());
  ASSERT_TRUE(a->PutObject("keys", "encrypted-key-record", "vault-a").ok());
  auto kr = stranger->GetKeyRecord("vault-a");
  ASSERT_TRUE(kr.ok()) << kr.status();
  ASSERT_EQ(kr->candidates_size(), 1);
  EXPECT_EQ(kr->candidates(0).data(), "encrypted-key-record");
  EXPECT_EQ(kr->candidates(0).customer_key(), a->customer_key());
  EXPECT_GT(kr->candidates(0).stored_ms(), 0);
  // Through GetObject only its owner reads it (a stranger has no contract).
  EXPECT_EQ(Code(stranger->GetObject("keys")), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(stranger->RequestContract(kMiB).ok());
  EXPECT_EQ(Code(stranger->GetObject("keys")), absl::StatusCode::kNotFound);
  // The key record is kept across restarts, and can move to a new vault ID.
  ASSERT_TRUE(cluster->Restart(0).ok());
  EXPECT_EQ(stranger->GetKeyRecord("vault-a")->candidates(0).data(), "encrypted-key-record");
  ASSERT_TRUE(a->PutObject("keys", "record-2", "vault-a2").ok());
  EXPECT_EQ(Code(stranger->GetKeyRecord("vault-a")), absl::StatusCode::kNotFound);
  EXPECT_EQ(stranger->GetKeyRecord("vault-a2")->candidates(0).data(), "record-2");
}

// Issue 8: a supplier (or anyone) that learned a vault ID must not be able to
// block or hijack its recovery elsewhere by claiming it first or en masse.
TEST(SupplierAuth, VaultIdSquattersCannotBlockOrReplaceTheHonestKeyRecord) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  // A squatter that claims the ID before the honest customer does not stop it.
  auto early = Connect(*cluster, 0, 'E');
  auto honest = Connect(*cluster, 0, 'H');
  ASSERT_TRUE(early && honest);
  ASSERT_TRUE(early->RequestContract(kMiB).ok());
  ASSERT_TRUE(early->PutObject("keys", "squatter-record", "the-vault").ok());
  ASSERT_TRUE(honest->RequestContract(kMiB).ok());
  ASSERT_TRUE(honest->PutObject("keys", "honest-record", "the-vault").ok());
  // Fourteen more fill the list; the seventeenth claim is refused.
  std::vector<std::unique_ptr<SupplierClient>> squatters;
  for (int i = 0; i < 15; ++i) {
    squatters.push_back(Connect(*cluster, 0, static_cast<char>('a' + i)));
    ASSERT_TRUE(squatters.back()->RequestContract(kMiB).ok());
    absl::Status s = squatters.back()->PutObject("keys", "fake", "the-vault").status();
    if (i < 14) {
      ASSERT_TRUE(s.ok()) << i << ": " << s;
    } else {
      EXPECT_EQ(Code(s), absl::StatusCode::kResourceExhausted) << s;
      EXPECT_THAT(std::string(s.message()), HasSubstr("16 key record claims"));
    }
  }
  // Overwriting their own records moves nothing; the honest one stays second
  // and can still be updated; every candidate survives a restart.
  ASSERT_TRUE(early->PutObject("keys", "squatter-record-2").ok());
  ASSERT_TRUE(honest->PutObject("keys", "honest-record-2").ok());
  ASSERT_TRUE(cluster->Restart(0).ok());
  auto anyone = Connect(*cluster, 0, 'z');
  auto kr = anyone->GetKeyRecord("the-vault");
  ASSERT_TRUE(kr.ok()) << kr.status();
  ASSERT_EQ(kr->candidates_size(), 16);
  EXPECT_EQ(kr->candidates(0).customer_key(), early->customer_key());
  EXPECT_EQ(kr->candidates(1).customer_key(), honest->customer_key());
  EXPECT_EQ(kr->candidates(1).data(), "honest-record-2");
  // A key record object is small, so the 16 fit one answer.
  EXPECT_EQ(Code(honest->PutObject("keys", std::string(32 * 1024 + 1, 'x'))),
            absl::StatusCode::kInvalidArgument);
}

TEST(SupplierAuth, AuditProvesPossessionAndListsPage) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->RequestContract(8 * kMiB).ok());
  const std::string data = RandomData(3 * kMiB + 17, 5);
  ASSERT_TRUE(a->PutFragment("blk-0001.f2", data).ok());
  const std::string nonce = crypto::RandomBytes(32);
  auto digest = a->AuditFragment("blk-0001.f2", nonce);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, crypto::Sha256(nonce + data));
  EXPECT_NE(*a->AuditFragment("blk-0001.f2", crypto::RandomBytes(32)), *digest);
  EXPECT_EQ(Code(a->AuditFragment("blk-0002.f2", nonce)), absl::StatusCode::kNotFound);

  for (int i = 0; i < 25; ++i) {
    char key[32];
    snprintf(key, sizeof(key), "k%03d", i);
    ASSERT_TRUE(a->PutFragment(key, std::string(i, 'x')).ok());
  }
  std::vector<std::string> seen;
  std::string after;
  for (;;) {
    auto page = a->ListFragments("k", after, 10);
    ASSERT_TRUE(page.ok());
    for (const auto& f : page->fragments()) {
      seen.push_back(f.key());
      EXPECT_EQ(f.sha256(), crypto::Sha256(std::string(std::stoi(f.key().substr(1)), 'x')));
    }
    if (!page->more()) break;
    after = seen.back();
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "k000");
  EXPECT_EQ(seen.back(), "k024");
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  auto del = a->DeleteFragments({"k000", "k001", "nope"});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted(), 2u);
  EXPECT_EQ(del->freed_bytes(), 2 * (4096u + 4));  // tiny items cost the minimum + name
  ASSERT_EQ(del->not_found_size(), 1);
  EXPECT_EQ(del->not_found(0), "nope");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SupplierAuth, ServesTlsWhenGivenACertificate) {
  const char* tmp = getenv("TEST_TMPDIR");
  std::string dir = std::string(tmp ? tmp : "/tmp") + "/tls-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout " +
      dir + "/key.pem -out " + dir +
      "/cert.pem -days 2 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
      "2>/dev/null";
  ASSERT_EQ(system(cmd.c_str()), 0) << "openssl (Debian package openssl) is needed: " << cmd;
  auto cluster = StartCluster(
      1, {.extra_flags = {"--tls-cert=" + dir + "/cert.pem", "--tls-key=" + dir + "/key.pem"}});
  ASSERT_TRUE(cluster);
  SupplierClientOptions o;
  o.tls_root_pem = ReadAll(dir + "/cert.pem");
  o.deadline_ms = 5000;
  auto secure = SupplierClient::Connect(cluster->Address(0), Seed('a'), o);
  ASSERT_TRUE(secure.ok()) << secure.status();
  EXPECT_TRUE((*secure)->RequestContract(kMiB).ok());
  EXPECT_TRUE((*secure)->PutFragment("f", "over tls").ok());
  EXPECT_EQ(*(*secure)->GetFragment("f"), "over tls");
  // A plaintext client cannot talk to it.
  SupplierClientOptions plain;
  plain.plaintext = true;
  plain.deadline_ms = 2000;
  EXPECT_FALSE(SupplierClient::Connect(cluster->Address(0), Seed('a'), plain).ok());
  // Half a TLS configuration is a usage error (exit code 1).
  auto half = SupplierCluster::Start(1, {.extra_flags = {"--tls-cert=" + dir + "/cert.pem"}});
  ASSERT_FALSE(half.ok());
  EXPECT_THAT(std::string(half.status().message()), HasSubstr("exit code 1"));
  EXPECT_THAT(std::string(half.status().message()), HasSubstr("--tls-key"));
}

}  // namespace
}  // namespace shardkeep::testing
