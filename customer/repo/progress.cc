#include "customer/repo/progress.h"

#include <cstdio>

namespace shardkeep::customer {

void Progress::Warn(const std::string& line) {
  fprintf(stderr, "%s\n", line.c_str());
  fflush(stderr);
}

}  // namespace shardkeep::customer
