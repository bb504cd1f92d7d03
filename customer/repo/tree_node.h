// Conversions between the file system's Node (customer/fs) and the stored
// TreeNode (proto/vault.proto), and tree serialisation.
#ifndef SHARDKEEP_CUSTOMER_REPO_TREE_NODE_H_
#define SHARDKEEP_CUSTOMER_REPO_TREE_NODE_H_

#include <string>

#include "customer/fs/node.h"
#include "proto/vault.pb.h"

namespace shardkeep::customer {

// Everything but content and subtree. Sockets have no TreeNode type: callers
// skip them (REQUIRES: node.type != kSocket).
vault::v1::TreeNode NodeToTree(const fs::Node& node);

// The metadata of a stored node, as restore needs it; `path` is informational.
fs::Node TreeToNode(const vault::v1::TreeNode& tn, const std::string& path);

// Deterministic bytes of a tree (the same tree always gives the same bytes,
// so the same chunk IDs).
std::string SerializeTree(const vault::v1::Tree& tree);

// One-letter type for listings: '-', 'd', 'l', 'p', 'c', 'b'.
char TypeLetter(vault::v1::NodeType type);

}  // namespace shardkeep::customer

#endif  // SHARDKEEP_CUSTOMER_REPO_TREE_NODE_H_
