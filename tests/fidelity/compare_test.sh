#!/usr/bin/env bash
# Self-check of the fidelity tools: make_tree.sh builds the tree, a `cp -a`
# copy (without the socket, as a restore would be) compares equal, and each
# deliberate change, on a fresh copy, is reported by the part of compare.sh
# meant to see it. Runs as a Bazel sh_test (see BUILD.bazel) or directly.
set -uo pipefail
export LC_ALL=C

here=$(cd -- "$(dirname -- "$0")" && pwd)
make_tree=$here/make_tree.sh
compare=$here/compare.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/fidelity.XXXXXX")
trap 'chmod -R u+rwx -- "$work" 2>/dev/null; rm -rf -- "$work"' EXIT
src=$work/src
copy=$work/copy
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

is_root_with_powers() { [[ -e $src/special/my-null ]]; }

if ! out=$("$make_tree" "$src" 2>"$work/make_tree.err"); then
  echo "make_tree.sh failed:"
  cat "$work/make_tree.err"
  exit 1
fi
[[ -z $out ]] || fail "make_tree.sh printed on stdout: $out"
# Notes on stderr only for left-out root cases.
if grep -v 'left out' "$work/make_tree.err"; then fail "make_tree.sh printed unexpected messages"; fi

# A copy that is what a perfect restore looks like: cp -a, socket dropped,
# the socket's directory given its time back.
fresh_copy() {
  chmod -R u+rwx -- "$copy" 2>/dev/null
  rm -rf -- "$copy"
  cp -a -- "$src" "$copy" || { echo "cp -a failed"; exit 1; }
  rm -f -- "$copy/special/socket"
  touch -h -r "$src/special" -- "$copy/special"
}

# keep_times REL...: gives entries (and their directories) the source's mtimes back,
# so a mutation shows only in what it is meant to change.
keep_times() {
  local rel
  for rel in "$@"; do
    touch -h -r "$src/$rel" -- "$copy/$rel"
    touch -h -r "$src/$(dirname -- "$rel")" -- "$copy/$(dirname -- "$rel")"
  done
}

# expect_difference NAME GREP-PATTERN: compare must fail and mention PATTERN.
expect_difference() {
  local name=$1 pattern=$2 rc=0
  out=$("$compare" "$src" "$copy" 2>&1) || rc=$?
  if [[ $rc -ne 1 ]]; then
    fail "$name: compare.sh exited $rc, want 1; output:"$'\n'"$out"
  elif ! grep -q -- "$pattern" <<<"$out"; then
    fail "$name: output does not mention '$pattern':"$'\n'"$out"
  fi
}

# ---- Equal trees: exit 0, no output.
fresh_copy
rc=0
out=$("$compare" "$src" "$copy" 2>&1) || rc=$?
[[ $rc -eq 0 && -z $out ]] || fail "identical copy: exit $rc, output:"$'\n'"$out"
# The tree has what the issue lists.
for rel in files/random-20M sparse/regions-64M dirs/empty links/dangling links/to-dir hard/other/c \
  special/fifo special/socket perms/file-04755 perms/dir-1777 xattrs/file names/$'\xff\xfe' \
  names/$'new\nline' 'names/*?[]' names/-rf 'names/with space'; do
  [[ -e $src/$rel || -L $src/$rel ]] || fail "make_tree.sh did not create $rel"
done
[[ $(stat -c %h "$src/hard/a") -eq 3 ]] || fail "hard/a should have 3 names"
[[ $(stat -c %b "$src/sparse/regions-64M") -lt 16384 ]] || fail "sparse/regions-64M is not sparse"
[[ $(stat -c %Y.%y "$src/times/file-ns") == 1234567890.*.123456789* ]] ||
  fail "times/file-ns has no nanoseconds"

# ---- Each change alone is found.
# mtime, 1 ns off, on a file, a symlink and a directory.
fresh_copy; touch -h -d '@1234567890.123456788' -- "$copy/times/file-ns"
expect_difference "file mtime" 'times/file-ns'
fresh_copy; touch -h -d '@1234567890.987654320' -- "$copy/times/link-ns"
expect_difference "symlink mtime" 'times/link-ns'
fresh_copy; touch -h -d '@1111111111.000000002' -- "$copy/times/dir-ns/sub"
expect_difference "directory mtime" 'times/dir-ns/sub'

# xattrs: a changed value, a missing one, an extra one.
fresh_copy; setfattr -n user.comment -v "another comment" -- "$copy/xattrs/file"
expect_difference "xattr value" 'xattr user.comment of xattrs/file'
fresh_copy; setfattr -x user.dir-note -- "$copy/xattrs/dir"
expect_difference "xattr missing" 'xattr user.dir-note of xattrs/dir: missing in DST'
fresh_copy; setfattr -n user.extra -v x -- "$copy/files/empty"
expect_difference "xattr extra" 'xattr user.extra of files/empty: only in DST'

# A hole filled with zeros: same bytes, same mtime, only allocation differs.
fresh_copy
dd if=/dev/zero of="$copy/sparse/regions-64M" bs=1M seek=20 count=8 conv=notrunc status=none
keep_times sparse/regions-64M
expect_difference "hole filled" 'sparseness of sparse/regions-64M'
out=$("$compare" "$src" "$copy" 2>&1)
if grep -q 'bsdtar mtree' <<<"$out"; then fail "hole filled: mtree should see no difference"; fi
fresh_copy
cp --sparse=never -- "$src/sparse/only-hole" "$copy/sparse/only-hole"
keep_times sparse/only-hole
expect_difference "all-hole file allocated" 'sparseness of sparse/only-hole'

# Contents: one byte of 20 MiB, same size and mtime.
fresh_copy
printf '\x00' | dd of="$copy/files/random-20M" bs=1 seek=12345678 conv=notrunc status=none
keep_times files/random-20M
expect_difference "content" 'files/random-20M.*sha256digest'

# Hard link broken into a copy: nlink and the groups differ.
fresh_copy
cp -p -- "$copy/hard/b" "$copy/hard/b.tmp" && mv -- "$copy/hard/b.tmp" "$copy/hard/b"
keep_times hard/b
expect_difference "hard link broken" 'hard links: '
expect_difference "hard link nlink" 'hard/a nlink=3'

# Modes: setuid lost, sticky lost.
fresh_copy; chmod 0755 -- "$copy/perms/file-04755"
expect_difference "setuid lost" 'perms/file-04755'
fresh_copy; chmod 0777 -- "$copy/perms/dir-1777"
expect_difference "sticky lost" 'perms/dir-1777'

# Symlink target changed (same name and time).
fresh_copy
ln -sfn ../files/4k -- "$copy/links/relative"
keep_times links/relative
expect_difference "symlink target" 'links/relative'

# Type changed: FIFO -> file.
fresh_copy
rm -- "$copy/special/fifo" && : >"$copy/special/fifo"
keep_times special/fifo
expect_difference "fifo became a file" 'special/fifo'

# keep_dir_time DIR: the directory's mtime back after adding or removing in it.
keep_dir_time() { touch -h -r "$src/$1" -- "$copy/$1"; }

# Entries missing or added; a socket in the restore.
fresh_copy; rm -- "$copy/names/"$'new\nline'; keep_dir_time names
expect_difference "name with newline missing" 'names/new\\012line'
fresh_copy; mkdir -- "$copy/dirs/extra"; keep_dir_time dirs
expect_difference "extra directory" 'dirs/extra'
fresh_copy; rm -- "$copy/names/"$'\xff\xfe'; keep_dir_time names
expect_difference "non-UTF-8 name missing" 'names/\\377\\376'
fresh_copy
python3 -c 'import os, socket, sys
os.chdir(sys.argv[1]); socket.socket(socket.AF_UNIX).bind("socket")' "$copy/special"
keep_dir_time special
expect_difference "socket restored" 'type=socket'

# Owners and devices (root only).
if is_root_with_powers; then
  fresh_copy; chown -h 0:0 -- "$copy/owners/link"
  expect_difference "symlink owner" 'owners/link'
  fresh_copy; chown 1234:0 -- "$copy/perms/file-02755"; chmod 02755 -- "$copy/perms/file-02755"
  expect_difference "group" 'perms/file-02755'
  fresh_copy
  rm -- "$copy/special/my-null" && mknod -- "$copy/special/my-null" c 1 5
  chmod 0666 -- "$copy/special/my-null"
  keep_times special/my-null
  expect_difference "device number" 'special/my-null'
else
  echo "note: owner and device checks skipped (not root with CAP_CHOWN/CAP_MKNOD)"
fi

# Usage errors are not "equal".
rc=0
"$compare" "$src" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "one argument: exit $rc, want 2"

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "compare_test: all checks passed"
