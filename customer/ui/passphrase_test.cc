#include "customer/ui/passphrase.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include "gtest/gtest.h"

namespace shardkeep::customer {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) {
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
  };
}

std::string WriteTemp(const std::string& data) {
  std::string path =
      std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/passphrase-XXXXXX";
  int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
  return path;
}

TEST(PassphraseTest, FromTheEnvironmentFirst) {
  auto p = ReadPassphrase(
      Env({{"SHARDKEEP_PASSWORD", "env pw"}, {"SHARDKEEP_PASSWORD_FILE", "/nonexistent"}}), false);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, "env pw");
}

TEST(PassphraseTest, FirstLineOfTheFile) {
  auto p =
      ReadPassphrase(Env({{"SHARDKEEP_PASSWORD_FILE", WriteTemp("file pw\r\nsecond\n")}}), true);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, "file pw");
  auto empty = ReadPassphrase(Env({{"SHARDKEEP_PASSWORD_FILE", WriteTemp("\nx\n")}}), false);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PassphraseTest, NoneWithoutATerminal) {
  if (isatty(STDIN_FILENO) || isatty(STDERR_FILENO)) GTEST_SKIP() << "run on a terminal";
  auto p = ReadPassphrase(Env({}), false);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
}

// Reads from the pty master until `want` shows up (or 10 s pass).
bool WaitFor(int master, const std::string& want) {
  std::string seen;
  for (int i = 0; i < 100 && seen.find(want) == std::string::npos; ++i) {
    struct pollfd p = {master, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) return false;
    seen.append(buf, n);
  }
  return seen.find(want) != std::string::npos;
}

// A process killed by `sig` while it prompts leaves its terminal with echo
// on, and dies of that signal.
void ExpectEchoRestoredAfter(int sig) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    (void)PromptWithoutEcho("Passphrase: ");
    _exit(0);
  }
  ASSERT_TRUE(WaitFor(master, "Passphrase: "));
  struct termios t;
  ASSERT_EQ(tcgetattr(master, &t), 0);
  EXPECT_EQ(t.c_lflag & ECHO, 0u) << "echo is on while prompting";
  ASSERT_EQ(kill(pid, sig), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status)) << status;
  if (WIFSIGNALED(status)) {
    EXPECT_EQ(WTERMSIG(status), sig);
  }
  ASSERT_EQ(tcgetattr(master, &t), 0);
  EXPECT_NE(t.c_lflag & ECHO, 0u) << "echo left off after signal " << sig;
  close(master);
}

TEST(PassphraseTest, InterruptRestoresEcho) { ExpectEchoRestoredAfter(SIGINT); }
TEST(PassphraseTest, TerminateRestoresEcho) { ExpectEchoRestoredAfter(SIGTERM); }
TEST(PassphraseTest, HangupRestoresEcho) { ExpectEchoRestoredAfter(SIGHUP); }

// The line typed is returned without its newline; echo is back afterwards.
TEST(PassphraseTest, ReadsALineFromTheTerminal) {
  int master = -1;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto line = PromptWithoutEcho("Passphrase: ");
    std::string got = line.ok() ? *line : "ERROR";
    (void)!write(pipefd[1], got.data(), got.size());
    _exit(0);
  }
  close(pipefd[1]);
  ASSERT_TRUE(WaitFor(master, "Passphrase: "));
  ASSERT_EQ(write(master, "s3cret\n", 7), 7);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  char buf[64];
  ssize_t n = read(pipefd[0], buf, sizeof buf);
  close(pipefd[0]);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "s3cret");
  struct termios t;
  ASSERT_EQ(tcgetattr(master, &t), 0);
  EXPECT_NE(t.c_lflag & ECHO, 0u);
  close(master);
}

}  // namespace
}  // namespace shardkeep::customer
