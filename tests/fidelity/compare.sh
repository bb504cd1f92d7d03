#!/usr/bin/env bash
# Compares a restored tree with its source the way issue 4 asks:
#
#   tests/fidelity/compare.sh SRC DST
#
# 1. `bsdtar --format=mtree` of each tree with the keywords type, mode, uid,
#    gid, size, time (ns), link, nlink, sha256 and device, diffed.
# 2. Hard-link groups: the sets of names sharing an inode are the same.
# 3. Extended attributes of every entry (all namespaces; symlinks included,
#    never followed), names and raw values.
# 4. Sparseness: a regular file that is sparse in SRC (allocated < size) must
#    be sparse in DST too and allocate at most SLACK more bytes than SRC
#    (default 256 KiB + 1/16 of what SRC allocates; env FIDELITY_SPARSE_SLACK
#    sets the fixed part in bytes).
# Sockets in SRC are left out (backup skips them); a socket in DST is a
# difference. Exits 0 and prints nothing when the trees are equal; otherwise
# prints the differences and exits 1 (2 for usage or tool errors).
set -euo pipefail
export LC_ALL=C

if [[ $# -ne 2 || ! -d $1 || ! -d $2 ]]; then
  echo "usage: $0 SRC DST (two directories)" >&2
  exit 2
fi
src=$(cd -- "$1" && pwd)
dst=$(cd -- "$2" && pwd)
for tool in bsdtar python3; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# One line per entry, names escaped (\012 ...), sorted. The ".": the tree's
# top directory itself, whose metadata a restore brings back too.
mtree() {
  local out=$2
  (cd -- "$1" &&
    bsdtar -cf - --format=mtree \
      --options='!all,type,mode,uid,gid,size,time,link,nlink,sha256,device' .) >"$out.raw"
  grep -v '^#' "$out.raw" | sort >"$out"
}
mtree "$src" "$tmp/src.mtree"
mtree "$dst" "$tmp/dst.mtree"
# Sockets are not backed up: drop them from the source side only.
grep -v ' type=socket\( \|$\)' "$tmp/src.mtree" >"$tmp/src.nosock" || true

status=0
if ! diff -u --label "SRC $src" --label "DST $dst" "$tmp/src.nosock" "$tmp/dst.mtree" \
  >"$tmp/mtree.diff"; then
  echo "== metadata and contents differ (bsdtar mtree; - SRC, + DST):"
  tail -n +3 "$tmp/mtree.diff" | grep '^[-+]'
  status=1
fi

python3 - "$src" "$dst" "${FIDELITY_SPARSE_SLACK:-262144}" <<'PY' || status=1
import os, stat, sys

src, dst, slack = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), int(sys.argv[3])

def show(rel):
    # Escaped like mtree names: bytes other than printable ASCII, space and
    # backslash as \ooo octal, so names read the same in both parts.
    if not rel:
        return "."
    return "".join(chr(c) if 33 <= c < 127 and c != 92 else "\\%03o" % c for c in rel)

def walk(top):
    """rel path (bytes) -> lstat result, for every entry below top and top itself."""
    entries = {b"": os.lstat(top)}
    for dirpath, dirnames, filenames in os.walk(top):  # never follows symlinks
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            entries[os.path.relpath(path, top)] = os.lstat(path)
    return entries

def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for name in names:
        try:
            out[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            pass
    return out

a, b = walk(src), walk(dst)
problems = []

# Hard-link groups (regular files with more than one name).
def groups(entries):
    by_inode = {}
    for rel, st in entries.items():
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            by_inode.setdefault((st.st_dev, st.st_ino), []).append(rel)
    return {tuple(sorted(g)) for g in by_inode.values()}

ga, gb = groups(a), groups(b)
for g in sorted(ga - gb):
    problems.append("hard links: %s are one inode in SRC, not in DST" % ", ".join(map(show, g)))
for g in sorted(gb - ga):
    problems.append("hard links: %s are one inode in DST, not in SRC" % ", ".join(map(show, g)))

for rel in sorted(a):
    sa = a[rel]
    if stat.S_ISSOCK(sa.st_mode) or rel not in b:
        continue  # sockets are not restored; missing entries show in the mtree diff
    sb = b[rel]
    pa, pb = os.path.join(src, rel), os.path.join(dst, rel)
    xa, xb = xattrs(pa), xattrs(pb)
    for name in sorted(set(xa) | set(xb)):
        if name not in xb:
            problems.append("xattr %s of %s: missing in DST" % (name, show(rel)))
        elif name not in xa:
            problems.append("xattr %s of %s: only in DST" % (name, show(rel)))
        elif xa[name] != xb[name]:
            problems.append("xattr %s of %s: %r in SRC, %r in DST"
                            % (name, show(rel), xa[name][:64], xb[name][:64]))
    if stat.S_ISREG(sa.st_mode) and stat.S_ISREG(sb.st_mode):
        alloc_a, alloc_b = sa.st_blocks * 512, sb.st_blocks * 512
        if alloc_a < sa.st_size:  # sparse in SRC
            limit = alloc_a + slack + alloc_a // 16
            if alloc_b >= sb.st_size or alloc_b > limit:
                problems.append(
                    "sparseness of %s: SRC allocates %d of %d bytes, DST %d (limit %d): holes filled"
                    % (show(rel), alloc_a, sa.st_size, alloc_b, limit))

if problems:
    print("== xattrs, hard links or sparseness differ:")
    for p in problems:
        print(p)
    sys.exit(1)
PY
exit "$status"
