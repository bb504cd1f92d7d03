#!/usr/bin/env bash
# Proves the layering of docs/ARCHITECTURE.md with `bazel query` (BUILD
# visibility already makes a dependency that points up a build error; this
# checks the whole graph, tests included, and says which edge is wrong):
#   - customer/ and supplier/ never depend on each other;
#   - inside customer/, a layer depends only on layers below it:
#       fs < net < vault < repo < {archive, restore, discovery} < ui < cmd
#     (archive, restore and discovery do not see each other); the one exception is
#     //customer/vault:names, a leaf that net/ may use.
# Prints one line per check; exits 1 if any failed. Run from the workspace.
set -uo pipefail
cd "$(dirname "$0")/.."
startup=("$@")  # e.g. --output_base=... (tests/run_all.sh passes its own)

layers=(fs net vault repo archive restore discovery ui cmd)
declare -A rank=([fs]=0 [net]=1 [vault]=2 [repo]=3 [archive]=4 [restore]=4 [discovery]=4 [ui]=5 [cmd]=6)
failed=0

query() { bazel "${startup[@]}" query --noshow_progress --output=label "$1" 2>/tmp/layering-query.err; }

check() {  # name, query whose result must be empty
  local name=$1 q=$2 out
  if ! out=$(query "$q"); then
    echo "FAIL layering: $name (query failed: $(tail -1 /tmp/layering-query.err))"
    failed=1
    return
  fi
  if [[ -n $out ]]; then
    echo "FAIL layering: $name:"
    printf '    %s\n' $out | head -20
    failed=1
  else
    echo "ok   layering: $name"
  fi
}

check "customer does not depend on supplier" \
  "kind(rule, deps(//customer/...)) intersect //supplier/..."
check "supplier does not depend on customer" \
  "kind(rule, deps(//supplier/...)) intersect //customer/..."

for a in "${layers[@]}"; do
  above=()
  for b in "${layers[@]}"; do
    [[ $a == "$b" ]] && continue
    if ((rank[$b] >= rank[$a])); then above+=("//customer/$b/..."); fi
  done
  ((${#above[@]} == 0)) && continue  # the top layer
  forbidden=$(IFS=+; echo "${above[*]}")
  forbidden=${forbidden//+/ + }
  q="kind(rule, deps(//customer/$a/...)) intersect ($forbidden)"
  [[ $a == net ]] && q="$q except //customer/vault:names"
  check "customer/$a depends only on layers below it" "$q"
done
exit $failed
