// Errors travel as absl::Status / absl::StatusOr<T> everywhere in ShardKeep.
// Nothing throws across module boundaries; a message names the thing that
// failed (the file, the supplier address, the quota).
#ifndef SHARDKEEP_COMMON_STATUS_H_
#define SHARDKEEP_COMMON_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SK_CONCAT_INNER_(a, b) a##b
#define SK_CONCAT_(a, b) SK_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status sk_status_ = (expr);            \
    if (!sk_status_.ok()) return sk_status_;       \
  } while (0)

// ASSIGN_OR_RETURN(T x, StatusOr<T> expr): declares/assigns x or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  SK_ASSIGN_OR_RETURN_IMPL_(SK_CONCAT_(sk_statusor_, __LINE__), lhs, expr)
#define SK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // SHARDKEEP_COMMON_STATUS_H_
