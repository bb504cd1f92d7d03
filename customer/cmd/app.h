// The `shardkeep` command line as a library: RunCli parses the arguments
// against the command table (app.cc), runs the chosen command and returns
// its exit code (exit_codes.h). main.cc calls it with the real supplier
// connector and the process's streams and environment; tests call it
// in-process with their own.
#ifndef SHARDKEEP_CUSTOMER_CMD_APP_H_
#define SHARDKEEP_CUSTOMER_CMD_APP_H_

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "customer/net/supplier_client.h"
#include "customer/net/transport_options.h"
#include "customer/ui/passphrase.h"

namespace shardkeep::customer {

// Everything a command reaches outside the process's memory, besides the
// file system: the suppliers, the output streams and the environment.
struct CliEnv {
  SupplierConnector connector;   // REQUIRED for commands that talk to suppliers
  // If set, RunCli replaces `connector` with its result for the transport
  // options of the command line (--stall-timeout; main.cc: the gRPC client).
  std::function<SupplierConnector(const TransportOptions&)> connect_with;
  FILE* out = stdout;            // results, and --help when asked for
  FILE* err = stderr;            // errors, warnings, usage on a bad command line
  EnvLookup env = ProcessEnv();  // SHARDKEEP_*, HOME
};

// Runs one command line. `args` are the words after the program name.
// Returns the exit code: 0 on success, 2 (with "shardkeep: <message>" and a
// hint to --help on env.err) for a bad command line, and the command's code
// otherwise. Never throws: the parser's exceptions stop here.
int RunCli(const std::vector<std::string>& args, CliEnv& env);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_CMD_APP_H_
