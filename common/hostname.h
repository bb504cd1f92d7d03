// This machine's host name, as snapshots, locks and `forget --group-by host`
// record it.
#ifndef SHARDKEEP_COMMON_HOSTNAME_H_
#define SHARDKEEP_COMMON_HOSTNAME_H_

#include <string>

namespace shardkeep {

// gethostname(), or "" if it fails (the callers then record no host).
std::string Hostname();

}  // namespace shardkeep

#endif  // SHARDKEEP_COMMON_HOSTNAME_H_
