// The gRPC client against a hostile supplier: a small in-process gRPC server
// that answers what a real supplier never would (a listing that says "more"
// forever, repeats a page or sends oversized pages; a fragment announced at
// 4 GiB and streamed without end, or longer than announced). Each call must
// end quickly with DataLoss naming the supplier, holding no more than the
// bounds allow.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "customer/net/grpc_supplier_client.h"
#include "gtest/gtest.h"
#include "proto/limits.h"
#include "proto/supplier.grpc.pb.h"

namespace shardkeep::customer {
namespace {

enum class Listing { kEndless, kRepeat, kOversizedPage };
enum class Fragment { kHuge, kLongerThanAnnounced };

class HostileSupplier final : public v1::Supplier::Service {
 public:
  Listing listing = Listing::kEndless;
  Fragment fragment = Fragment::kHuge;
  std::atomic<uint64_t> pages{0}, messages{0};
  uint64_t next_ = 0;  // the next name's number (calls come one at a time)

  grpc::Status ListObjects(grpc::ServerContext*, const v1::ListObjectsRequest* req,
                           v1::ListObjectsResponse* resp) override {
    pages++;
    uint32_t count = listing == Listing::kOversizedPage ? 2 * req->page_size() : req->page_size();
    // New, increasing names every page (kEndless), or always the same ones
    // (kRepeat).
    if (listing == Listing::kRepeat) next_ = 0;
    for (uint32_t i = 0; i < count; ++i) {
      char name[16];
      snprintf(name, sizeof name, "%010llu", static_cast<unsigned long long>(next_++));
      resp->add_objects()->set_name(req->prefix() + name);
    }
    resp->set_more(true);
    return grpc::Status::OK;
  }

  grpc::Status GetFragment(grpc::ServerContext* ctx, const v1::GetFragmentRequest*,
                           grpc::ServerWriter<v1::FragmentData>* writer) override {
    v1::FragmentData msg;
    msg.set_size(fragment == Fragment::kHuge ? (uint64_t{4} << 30) : 1000);
    msg.set_data(std::string(fragment == Fragment::kHuge ? 1 << 20 : 1000, 'x'));
    for (int i = 0; i < 4096 && !ctx->IsCancelled(); ++i) {
      if (!writer->Write(msg)) break;
      messages++;
      msg.clear_size();
    }
    return grpc::Status::OK;
  }
};

class HostileSupplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
    // A known supplier ID: the client signs without asking Info first.
    // The hostile server is plaintext; so is this client (TLS is not what
    // these tests are about).
    TransportOptions plain;
    plain.insecure_plaintext = true;
    auto c = ConnectGrpcSupplierWith(plain, address_, std::string(32, '\x07'),
                                     std::string(32, '\x01'));
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
  }
  void TearDown() override {
    client_.reset();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  HostileSupplier service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<SupplierClient> client_;
};

TEST_F(HostileSupplierTest, EndlessListingStopsAtTheNameLimit) {
  auto start = std::chrono::steady_clock::now();
  auto r = client_->ListObjects("snapshots/");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(r.status().message().find(address_), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find(absl::StrCat("more than ", protocol::kMaxListedObjects)),
            std::string::npos)
      << r.status();
  EXPECT_LE(service_.pages.load(), protocol::kMaxListedObjects / protocol::kListPageSize + 1);
  EXPECT_LT(s, 30.0);
}

TEST_F(HostileSupplierTest, RepeatedPageIsRefusedAtOnce) {
  service_.listing = Listing::kRepeat;
  auto r = client_->ListObjects("index/");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(r.status().message().find("out of order or repeated"), std::string::npos) << r.status();
  EXPECT_EQ(service_.pages.load(), 2u);
}

TEST_F(HostileSupplierTest, OversizedPageIsRefused) {
  service_.listing = Listing::kOversizedPage;
  auto r = client_->ListObjects("index/");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(r.status().message().find("a page of 2000 names"), std::string::npos) << r.status();
}

TEST_F(HostileSupplierTest, FragmentAnnouncedLargerThanTheIndexSaysIsRefusedAtOnce) {
  auto r = client_->GetFragmentOfSize(std::string(32, 'a') + ".0", 65536);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(r.status().message().find(address_), std::string::npos);
  EXPECT_NE(r.status().message().find("announced 4294967296 bytes, the index expects 65536"),
            std::string::npos)
      << r.status();
  // The server got to send little of its 4 GiB before the call was cancelled.
  EXPECT_LT(service_.messages.load(), 200u);
}

TEST_F(HostileSupplierTest, FragmentLongerThanAnnouncedIsRefused) {
  service_.fragment = Fragment::kLongerThanAnnounced;
  auto r = client_->GetFragmentOfSize(std::string(32, 'a') + ".0", 1000);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(r.status().message().find("sent more than the 1000 bytes announced"),
            std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace shardkeep::customer
