// The operator's view of a running supplier (issue 11): `status`, the
// Prometheus endpoint and structured refusal lines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/supplier/test_util.h"

namespace shardkeep::testing {
namespace {

using ::testing::HasSubstr;

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
    send(fd, req.data(), req.size(), 0);
    char buf[4096];
    for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  }
  close(fd);
  return out;
}

std::string RunCommand(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (p != nullptr && fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  if (p != nullptr) pclose(p);
  return out;
}

TEST(SupplierOperator, StatusMetricsAndRefusalLines) {
  auto cluster = StartCluster(1, {.extra_flags = {"--metrics-listen=127.0.0.1:0"}});
  ASSERT_TRUE(cluster);
  auto a = Connect(*cluster, 0, 'a');
  ASSERT_TRUE(a && a->RequestContract(1 << 20).ok());
  ASSERT_TRUE(a->PutFragment("f", RandomData(5000, 1)).ok());
  ASSERT_TRUE(a->GetFragment("f").ok());
  EXPECT_EQ(Code(a->GetFragment("absent")), absl::StatusCode::kNotFound);
  EXPECT_EQ(Code(a->PutFragment("big", RandomData(2 << 20, 2))),
            absl::StatusCode::kResourceExhausted);

  std::smatch m;
  const std::string log = cluster->LogTail(0, 100000);
  ASSERT_TRUE(
      std::regex_search(log, m, std::regex(R"(serving GET /metrics on \S+ \(port (\d+)\))")))
      << log;
  const std::string metrics = HttpGet(std::stoi(m[1]), "/metrics");
  EXPECT_THAT(metrics, HasSubstr("HTTP/1.0 200 OK"));
  EXPECT_THAT(metrics,
              HasSubstr("shardkeep_supplier_requests_total{method=\"PutFragment\",code=\"OK\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("shardkeep_supplier_requests_total{method=\"GetFragment\","
                                 "code=\"NOT_FOUND\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("shardkeep_supplier_refusals_total{code=\"RESOURCE_EXHAUSTED\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("shardkeep_supplier_request_duration_seconds_count{method="
                                 "\"PutFragment\"} 2"));
  EXPECT_THAT(metrics, HasSubstr("shardkeep_supplier_transfer_bytes_total{method=\"PutFragment\","
                                 "direction=\"in\"} 5000"));
  EXPECT_THAT(metrics, HasSubstr("shardkeep_supplier_customers 1"));
  EXPECT_THAT(metrics,
              HasSubstr("shardkeep_supplier_reaper_runs_total{decision=\"first_reading\"} 1"));
  EXPECT_THAT(HttpGet(std::stoi(m[1]), "/other"), HasSubstr("404"));
  // One key=value line per refusal, with the customer's short ID.
  EXPECT_THAT(log, HasSubstr("refused method=PutFragment code=RESOURCE_EXHAUSTED customer="));

  // status reads the data dir while the daemon serves it.
  auto bin = SupplierCluster::FindSupplierBinary();
  ASSERT_TRUE(bin.ok());
  const std::string status =
      RunCommand(*bin + " status --data-dir " + cluster->DataDir(0) + " 2>&1");
  EXPECT_THAT(status, HasSubstr("customers       1"));
  EXPECT_THAT(status, HasSubstr("in 1 fragments and 0 objects"));
  EXPECT_THAT(status, HasSubstr("0 ending within 14 days"));
  EXPECT_TRUE(a->GetContract().ok());  // the daemon is undisturbed
}

}  // namespace
}  // namespace shardkeep::testing
