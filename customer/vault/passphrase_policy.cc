#include "customer/vault/passphrase_policy.h"

#include <pwquality.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/error_kind.h"

namespace shardkeep::customer {

absl::Status CheckPassphraseStrength(std::string_view passphrase) {
  pwquality_settings_t* settings = pwquality_default_settings();
  if (settings == nullptr) return absl::ResourceExhaustedError("pwquality: out of memory");
  void* aux = nullptr;
  // A missing or broken config file leaves the built-in defaults, which is
  // what we want; its error is not ours to report.
  pwquality_read_config(settings, nullptr, &aux);
  aux = nullptr;
  const std::string pass(passphrase);
  int score = pwquality_check(settings, pass.c_str(), nullptr, nullptr, &aux);
  absl::Status result = absl::OkStatus();
  if (score < 0) {
    char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
    const char* why = pwquality_strerror(buf, sizeof buf, score, aux);
    result = UsageError(absl::StrCat(
        "the passphrase is too weak: ", why,
        ". It protects a key record every supplier holds, which can be guessed at offline; "
        "choose a longer one (several unrelated words), or pass --allow-weak-passphrase"));
  }
  pwquality_free_settings(settings);
  return result;
}

}  // namespace shardkeep::customer
