// The vault passphrase: from the environment, a file, or a prompt on the
// terminal. The prompt turns echo off and always turns it back on, also when
// the user interrupts it (Ctrl-C) or the process is told to stop (SIGTERM,
// SIGHUP, SIGQUIT): a shell must not be left without echo.
#ifndef SHARDKEEP_CUSTOMER_UI_PASSPHRASE_H_
#define SHARDKEEP_CUSTOMER_UI_PASSPHRASE_H_

#include <functional>
#include <string>

#include "common/status.h"

namespace shardkeep::customer {

// Looks up an environment variable; "" when it is unset (an empty value
// counts as unset everywhere in the CLI). Tests pass their own.
using EnvLookup = std::function<std::string(const std::string& name)>;

// The process environment (getenv).
EnvLookup ProcessEnv();

// The passphrase: env SHARDKEEP_PASSWORD, else the first line of the file
// named by SHARDKEEP_PASSWORD_FILE (InvalidArgument if that line is empty),
// else a prompt without echo on /dev/tty, asked twice when `confirm`
// (InvalidArgument if empty or the two differ). FailedPrecondition when
// there is none of them (no terminal).
absl::StatusOr<std::string> ReadPassphrase(const EnvLookup& env, bool confirm);

// Writes `prompt` to the controlling terminal and reads one line with echo
// off. While it waits, SIGINT, SIGTERM, SIGHUP and SIGQUIT (those not
// ignored) restore the terminal and then take their default action; the
// previous handlers are back when it returns. Unavailable without a
// terminal. Exposed for tests.
absl::StatusOr<std::string> PromptWithoutEcho(const std::string& prompt);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_UI_PASSPHRASE_H_
