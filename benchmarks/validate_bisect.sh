#!/bin/sh
# Validation protocol for `sysgate bisect` (docs/bisect.md): a real kernel bisection.
#
# Makes a git repository from Debian's linux-source-6.1, adds a short series of commits of
# which one (commit 3) adds a loop to the syscall entry C code (do_syscall_64 in
# arch/x86/entry/common.c), and runs `sysgate bisect` between the untouched tree and the
# last commit with the minimal config (tinyconfig + scripts/sysgatelib/vm/bisect.config).
# It prints every step (commit, build and boot times, the verdict) and checks that the
# commit found is the loop's. Too slow for CI: about 3 minutes for the first build on a
# 2-core machine, much less for the incremental ones, plus a QEMU boot and run per run.
#
#   benchmarks/validate_bisect.sh            WORK=/tmp/sysgate-validate-bisect by default
#   LOOPS=300 MAX_RUNS=3 JOBS=2 THRESHOLD=10 benchmarks/validate_bisect.sh
#
# Under TCG (no usable /dev/kvm) the vDSO controls and the syscalls are noisy on a loaded
# machine; the loop adds about a microsecond per entry there, so the verdict's thresholds
# are raised to THRESHOLD percent (default 10): a commit that adds nothing then settles as
# "no change" in a few runs instead of being skipped. Every guest boots with APPEND
# (default "tsc=reliable tsc_early_khz=<the host's TSC kHz>"): a minimal kernel has no
# HPET or ACPI PM timer, so under TCG on a loaded host its PIT calibration of the TSC fails
# now and then ("tsc: Marking TSC unstable due to could not calculate TSC khz"), the
# clocksource becomes refined-jiffies, its vDSO rows become syscalls, and compare withholds
# the verdict (the controls moved). A TCG guest's TSC ticks at the host's rate. The work
# folder is kept between
# calls: its build folder makes a second call's builds incremental.
#
# Exit 0 when the bisection names the loop's commit, 1 when it names another or none.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/sysgate-validate-bisect}
SRC=$WORK/linux
LOOPS=${LOOPS:-300}
MAX_RUNS=${MAX_RUNS:-3}
JOBS=${JOBS:-$(nproc)}
THRESHOLD=${THRESHOLD:-10}
# The host's TSC rate, as its kernel calibrated it (dmesg), else the CPU's MHz.
KHZ=$( (dmesg 2>/dev/null | sed -n 's/.*tsc: \(Refined TSC clocksource calibration\|Detected\): \([0-9.]*\) MHz.*/\2/p';
        sed -n 's/^cpu MHz[^:]*: \([0-9.]*\)/\1/p' /proc/cpuinfo) |
       head -1 | awk '{printf "%d", $1 * 1000}')
APPEND=${APPEND-tsc=reliable tsc_early_khz=$KHZ}
PY=/usr/bin/python3
BENCH=$REPO/build/benchmarks/sysgate_bench

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }

if [ ! -f /usr/src/linux-source-6.1.tar.xz ] || ! command -v flex >/dev/null ||
   ! command -v bison >/dev/null || ! command -v bc >/dev/null; then
  say "installing linux-source-6.1 and the kernel's build dependencies"
  apt-get install -y linux-source-6.1 flex bison bc libelf-dev libssl-dev
fi
if [ ! -x "$BENCH" ]; then
  say "building the benchmark"
  (cd "$REPO" && nice cmake --preset release >/dev/null && nice cmake --build build -j2)
fi

mkdir -p "$WORK"
if [ ! -d "$SRC/.git" ]; then
  say "unpacking linux-source-6.1 into $SRC"
  rm -rf "$SRC" "$WORK/linux-source-6.1"
  tar -C "$WORK" -xf /usr/src/linux-source-6.1.tar.xz
  mv "$WORK/linux-source-6.1" "$SRC"
  # Debian's .gitignore ends by ignoring everything at the top level (its packaging repo
  # tracks only debian/): without that block, git tracks the tree as upstream does.
  sed -i '/^# Debian packaging/,$d' "$SRC/.gitignore"
  git -C "$SRC" init -q -b main
  git -C "$SRC" config user.email validate@sysgate.invalid
  git -C "$SRC" config user.name "sysgate validate_bisect"
  git -C "$SRC" add -A
  git -C "$SRC" commit -q -m "linux-source-6.1 as Debian ships it"
  git -C "$SRC" ls-files | grep -qx arch/x86/entry/common.c  # the tree is tracked
  git -C "$SRC" tag validate-good
fi

# The series, made once: five commits, the third one the regression.
if ! git -C "$SRC" rev-parse -q --verify validate-bad >/dev/null; then
  say "making the series of commits"
  git -C "$SRC" checkout -q main
  ENTRY=arch/x86/entry/common.c

  printf '\nsysgate validation: an unrelated documentation line.\n' >> "$SRC/README"
  git -C "$SRC" commit -q -am "1: README: a documentation line (no code)"

  printf '\n/* sysgate validation: a comment in the entry code (no code). */\n' >> "$SRC/$ENTRY"
  git -C "$SRC" commit -q -am "2: x86/entry: a comment (no code)"

  # The regression: $LOOPS empty iterations on every 64-bit syscall, before its dispatch.
  $PY - "$SRC/$ENTRY" "$LOOPS" <<'EOF'
import sys
path, loops = sys.argv[1], int(sys.argv[2])
text = open(path).read()
anchor = "\tinstrumentation_begin();\n\n\tif (!do_syscall_x64(regs, nr)"
assert anchor in text, "do_syscall_64 is not as in 6.1"
loop = ("\tinstrumentation_begin();\n\n"
        "\t{\n\t\tunsigned int sysgate_i;\n\n"
        f"\t\tfor (sysgate_i = 0; sysgate_i < {loops}; sysgate_i++)\n"
        "\t\t\tbarrier();\n\t}\n\n"
        "\tif (!do_syscall_x64(regs, nr)")
open(path, "w").write(text.replace(anchor, loop, 1))
EOF
  git -C "$SRC" commit -q -am "3: x86/entry: $LOOPS loop iterations in do_syscall_64 (the regression)"

  printf '\nsysgate validation: a second documentation line.\n' >> "$SRC/README"
  git -C "$SRC" commit -q -am "4: README: another documentation line"

  printf '\n/* sysgate validation: a second comment. */\n' >> "$SRC/kernel/sys.c"
  git -C "$SRC" commit -q -am "5: kernel/sys.c: a comment (no code)"
  git -C "$SRC" tag validate-bad
fi
EXPECTED=$(git -C "$SRC" log --format=%H --grep='^3: ' -1 validate-bad)
say "series: $(git -C "$SRC" rev-list --count validate-good..validate-bad) commits; the regression is $EXPECTED"
git -C "$SRC" log --oneline validate-good..validate-bad

say "sysgate bisect (jobs $JOBS, max runs $MAX_RUNS, thresholds $THRESHOLD%, append '$APPEND')"
set +e
nice $PY "$REPO/scripts/sysgate" bisect "$SRC" --good validate-good --bad validate-bad \
  --jobs "$JOBS" --max-runs "$MAX_RUNS" --bench "$BENCH" --no-install \
  --threshold "$THRESHOLD" --entry-threshold "$THRESHOLD" --append "$APPEND" \
  --work "$WORK/bisect" --db "$WORK/history.sqlite" \
  --timeout 600 2>&1 | tee "$WORK/bisect.log"
set -e
FOUND=$(sed -n 's/^bisect: first bad commit: \([0-9a-f]*\).*/\1/p' "$WORK/bisect.log")
say "sysgate bisect exited; first bad commit: ${FOUND:-none}; expected: $EXPECTED"
if [ "$FOUND" = "$EXPECTED" ]; then
  say "PASS: the bisection named the loop's commit"
  exit 0
fi
say "FAIL: the bisection did not name the loop's commit"
exit 1
