#include "common/hostname.h"

#include <unistd.h>

namespace shardkeep {

std::string Hostname() {
  char buf[256] = {0};
  return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string();
}

}  // namespace shardkeep
