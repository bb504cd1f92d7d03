// shardkeep: the customer's command line (app.h), with the real suppliers.
#include <string>
#include <vector>

#include "common/malloc_tuning.h"
#include "customer/cmd/app.h"
#include "customer/net/grpc_supplier_client.h"

int main(int argc, char** argv) {
  // Big reusable buffers, few arenas: see common/malloc_tuning.h.
  shardkeep::TuneMallocForLargeBuffers();
  shardkeep::customer::CliEnv env;
  env.connector = shardkeep::customer::DefaultConnector();
  env.connect_with = shardkeep::customer::GrpcConnector;
  return shardkeep::customer::RunCli(std::vector<std::string>(argv + 1, argv + argc), env);
}
