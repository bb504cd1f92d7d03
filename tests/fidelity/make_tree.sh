#!/usr/bin/env bash
# Builds a directory tree holding every case of the fidelity list of issue 4
# (what `shardkeep restore` must bring back), for end-to-end tests:
#
#   tests/fidelity/make_tree.sh DIR
#
# DIR must not exist or be empty. Contents are deterministic (fixed seeds,
# fixed times); ownership and device nodes need root (with CAP_CHOWN and
# CAP_MKNOD) and are left out with a note on stderr otherwise. Prints nothing
# on success. Compare a restore with tests/fidelity/compare.sh.
#
# Layout (names below DIR):
#   files/     empty, 1 byte, 4 KiB, 3 MiB+17 random, 20 MiB random, 2 MiB of
#              compressible text, 1 MiB of explicitly written zeros
#   sparse/    64 MiB with four data regions (ending with data), one starting
#              with a hole, one ending with a hole, one that is only a hole
#   dirs/      empty directories, 6 levels of nesting, mtimes set deepest first
#   links/     symlinks: absolute, relative, dangling, to a directory, a
#              relative one to a directory, one to itself (never followed)
#   hard/      three names of one inode (two here, one in hard/other/), plus
#              a second pair
#   special/   a FIFO, a socket (backup must skip it with a warning), device
#              nodes my-null (c 1 3) and my-loop (b 7 200) when root
#   perms/     0000 (root only), 0777, 0644, 0600, 04755, 02755, 06755, 01777 and 0555
#              directories, setuid files owned 1234:5678 when root
#   owners/    files, a directory and a symlink owned by 1234:5678 when root
#   xattrs/    user xattrs: text, binary (NUL and 0xff), empty, many, long
#              value, on a file, a directory and (root only) a mode-0000 file
#   names/     not UTF-8, newline, space, tab, glob characters, leading dash,
#              backslash, quotes, a 255-byte name, a non-UTF-8 directory
#   times/     nanosecond mtimes on files, directories and symlinks,
#              before 1970 and far in the future
set -euo pipefail
export LC_ALL=C

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
root=$1
mkdir -p -- "$root"
if [[ -n "$(ls -A -- "$root")" ]]; then
  echo "$0: $root is not empty" >&2
  exit 2
fi
root=$(cd -- "$root" && pwd)

note() { echo "make_tree.sh: $*" >&2; }

can_chown=0
can_mknod=0
if [[ $(id -u) -eq 0 ]]; then
  probe="$root/.probe"
  : >"$probe"
  chown 1234:5678 "$probe" 2>/dev/null && can_chown=1
  rm -f "$probe"
  mknod "$probe" c 1 3 2>/dev/null && can_mknod=1
  rm -f "$probe"
fi
[[ $can_chown -eq 1 ]] || note "not root with CAP_CHOWN: owners 1234:5678 left out"
[[ $can_mknod -eq 1 ]] || note "not root with CAP_MKNOD: device nodes left out"
# Mode 0000 files are unreadable without CAP_DAC_OVERRIDE (backup would call
# them unreadable and end "partial"), so they are only made for root.
unreadable_ok=0
[[ $(id -u) -eq 0 ]] && unreadable_ok=1
[[ $unreadable_ok -eq 1 ]] || note "not root: mode 0000 files left out"

mkdir -p "$root"/{files,sparse,dirs,links,hard/other,special,perms,owners,xattrs,names,times}

# ---- Contents: regular and sparse files (python3: fast, seeded, exact offsets).
python3 - "$root" <<'PY'
import os, random, sys
root = sys.argv[1]
MiB = 1 << 20

def write(rel, data):
    with open(os.path.join(root, rel), "wb") as f:
        f.write(data)

rng = random.Random(20240404)
write("files/empty", b"")
write("files/one-byte", b"\x42")
write("files/4k", rng.randbytes(4096))
write("files/random-3M", rng.randbytes(3 * MiB + 17))
write("files/random-20M", rng.randbytes(20 * MiB))
words = [b"backup", b"shard", b"supplier", b"vault", b"fragment", b"restore", b"block"]
text = bytearray()
line_no = 0
while len(text) < 2 * MiB:
    text += b"%06d " % line_no + b" ".join(rng.choice(words) for _ in range(9)) + b"\n"
    line_no += 1
write("files/text.txt", bytes(text[: 2 * MiB]))
write("files/zeros-dense", bytes(MiB))  # written zeros: allocated, not a hole

def sparse(rel, size, regions):
    fd = os.open(os.path.join(root, rel), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    for offset, data in regions:
        os.pwrite(fd, data, offset)
    os.close(fd)

sparse("sparse/regions-64M", 64 * MiB, [
    (0, rng.randbytes(64 * 1024)),
    (10 * MiB, rng.randbytes(MiB)),
    (40 * MiB + 123, rng.randbytes(1000)),
    (64 * MiB - 4096, rng.randbytes(4096)),  # ends with data
])
sparse("sparse/hole-first", 17 * MiB, [(16 * MiB, rng.randbytes(MiB))])
sparse("sparse/hole-last", 16 * MiB, [(0, rng.randbytes(MiB))])
sparse("sparse/only-hole", 8 * MiB, [])
sparse("sparse/unaligned", 5 * MiB + 333, [(2 * MiB + 5, b"x" * 5000)])
PY

# ---- Directories: empty ones and deep nesting.
mkdir -p "$root"/dirs/empty "$root"/dirs/nested/a/b/c/d/e "$root"/dirs/nested/a/empty-too
echo "leaf" >"$root"/dirs/nested/a/b/c/d/e/leaf.txt
echo "mid" >"$root"/dirs/nested/a/b/mid.txt

# ---- Symlinks (never followed by backup or restore).
ln -s /etc/hostname "$root"/links/absolute
ln -s ../files/text.txt "$root"/links/relative
ln -s ../no/such/file "$root"/links/dangling
ln -s /nonexistent/absolute/dangling "$root"/links/dangling-absolute
ln -s ../dirs/nested "$root"/links/to-dir
ln -s /usr "$root"/links/to-dir-absolute
ln -s self "$root"/links/self
ln -s $'odd target\nwith newline \xff' "$root"/links/odd-target

# ---- Hard links: three names for one inode, across directories.
printf 'one inode, three names\n' >"$root"/hard/a
ln "$root"/hard/a "$root"/hard/b
ln "$root"/hard/a "$root"/hard/other/c
printf 'a pair\n' >"$root"/hard/pair-1
ln "$root"/hard/pair-1 "$root"/hard/other/pair-2

# ---- Special files.
mkfifo "$root"/special/fifo
python3 -c 'import os, socket, sys
os.chdir(sys.argv[1])  # bind a relative name: sun_path is short
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind("socket")' "$root"/special
if [[ $can_mknod -eq 1 ]]; then
  mknod "$root"/special/my-null c 1 3
  mknod "$root"/special/my-loop b 7 200
  chmod 0666 "$root"/special/my-null
  chmod 0640 "$root"/special/my-loop
fi
chmod 0620 "$root"/special/fifo

# ---- Extended attributes (before modes: one file ends up mode 0000).
x=$root/xattrs
printf 'text\n' >"$x"/file
setfattr -n user.comment -v "a plain comment" "$x"/file
setfattr -n user.binary -v 0x00ff00fe0a0d7f80 "$x"/file
setfattr -n user.empty "$x"/file
setfattr -n user.long -v "0x$(python3 -c 'import random; print(random.Random(7).randbytes(3000).hex())')" "$x"/file
mkdir "$x"/dir
setfattr -n user.dir-note -v "on a directory" "$x"/dir
printf 'many\n' >"$x"/many
for i in $(seq 1 20); do setfattr -n "user.attr$i" -v "value $i" "$x"/many; done
if [[ $unreadable_ok -eq 1 ]]; then
  printf 'locked\n' >"$x"/mode-0000
  setfattr -n user.locked -v yes "$x"/mode-0000
  chmod 0000 "$x"/mode-0000
fi

# ---- Names: raw bytes.
n=$root/names
for name in $'\xff\xfe' $'new\nline' 'with space' $'tab\there' '*?[]' '[a-z]*' '-rf' '-' '--' \
  '\back\slash' "quote's" 'dq"uote' $'\x01ctrl' ' leading-space' 'trailing-space ' '.hidden' \
  'ütf-8 ok' $'latin1 \xe9t\xe9'; do
  printf '%s' "$name" >"$n/$name"
done
printf 'long\n' >"$n/$(printf 'L%.0s' $(seq 1 255))"
mkdir "$n"/$'dir-\xff'
printf 'inside\n' >"$n"/$'dir-\xff'/$'file\n\xfe'
ln -s $'\xff\xfe' "$n"/$'link-\xfe'

# ---- Permissions and owners (chown before chmod: chown clears setuid).
p=$root/perms
modes=(0777 0644 0600 0755 04755 02755 06755 0444 01755)
[[ $unreadable_ok -eq 1 ]] && modes+=(0000)
for m in "${modes[@]}"; do
  printf 'mode %s\n' "$m" >"$p/file-$m"
done
mkdir "$p"/dir-1777 "$p"/dir-0555 "$p"/dir-0700 "$p"/dir-02775
printf 'inside a read-only dir\n' >"$p"/dir-0555/inside
o=$root/owners
printf 'owned\n' >"$o"/file
mkdir "$o"/dir
printf 'in dir\n' >"$o"/dir/inner
ln -s file "$o"/link
if [[ $can_chown -eq 1 ]]; then
  chown 1234:5678 "$p"/file-04755 "$p"/file-02755 "$p"/file-06755 "$o"/file "$o"/dir
  chown 4321:8765 "$o"/dir/inner
  chown -h 1234:5678 "$o"/link
  chown 0:5678 "$p"/dir-02775
fi
for m in "${modes[@]}"; do
  chmod "$m" "$p/file-$m"
done
chmod 1777 "$p"/dir-1777
chmod 0700 "$p"/dir-0700
chmod 2775 "$p"/dir-02775
# dir-0555 last: nothing is created inside it afterwards.

# ---- Times: every entry gets a fixed mtime; nanoseconds everywhere.
t=$root/times
printf 'ns\n' >"$t"/file-ns
printf 'old\n' >"$t"/before-1970
printf 'future\n' >"$t"/year-2100
printf 'zero\n' >"$t"/zero-ns
mkdir -p "$t"/dir-ns/sub
ln -s file-ns "$t"/link-ns

# Non-directories first (touch -h: a symlink's own time, never its target's).
i=0
while IFS= read -r -d '' entry; do
  i=$((i + 1))
  touch -h -d "@$((1500000000 + i * 1000)).$(printf '%09d' $((i * 7919 % 1000000000)))" -- "$entry"
done < <(find "$root" -mindepth 1 ! -type d -print0 | sort -z)
touch -h -d '@1234567890.123456789' -- "$t"/file-ns
touch -h -d '@1234567890.987654321' -- "$t"/link-ns
touch -h -d '@-86400.5' -- "$t"/before-1970
touch -h -d '@4102444800.000000001' -- "$t"/year-2100
touch -h -d '@1600000000' -- "$t"/zero-ns
touch -h -d '@1234567890.123456789' -- "$root"/hard/a  # one inode, three names

chmod 0555 "$p"/dir-0555
# Directories last, deepest first, so creating entries cannot move them again.
# Deepest first, then by name (sorted, so the times do not depend on readdir order).
i=0
while IFS= read -r -d '' entry; do
  i=$((i + 1))
  entry=${entry#* }
  touch -h -d "@$((1400000000 + i * 100000)).$(printf '%09d' $((i * 104729 % 1000000000)))" -- "$entry"
done < <(find "$root" -type d -printf '%d %p\0' | sort -z -t ' ' -k1,1nr -k2)
touch -h -d '@1111111111.000000001' -- "$t"/dir-ns/sub
touch -h -d '@1222222222.999999999' -- "$t"/dir-ns
touch -h -d '@1333333333.5' -- "$t"
touch -h -d '@1444444444.444444444' -- "$root"
