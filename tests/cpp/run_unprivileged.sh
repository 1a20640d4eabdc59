#!/bin/sh
# Runs sysgate_bench as `nobody` (setpriv) and checks that the timing pass completes and
# that the counters say why they are missing. Exit 77 (ctest SKIP) where that cannot run.
bench="$1"
[ "$(id -u)" = 0 ] || { echo "skip: needs root to drop to nobody"; exit 77; }
command -v setpriv >/dev/null || { echo "skip: setpriv not installed"; exit 77; }
run() { setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$@"; }
run test -x "$bench" || { echo "skip: nobody cannot execute $bench"; exit 77; }
out=$(run "$bench" --cpu=none --benchmark_filter='getpid/syscall/' \
      --benchmark_min_time=0.01 --benchmark_format=json 2>/dev/null) || exit 1
echo "$out" | grep -q '"tsc_ticks"' || { echo "no timing row"; exit 1; }
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)
if [ "$paranoid" -ge 2 ]; then
  echo "$out" | grep -q '"counters.unavailable": ".*syscall_entries: .*perf_event_paranoid' ||
    { echo "no paranoid reason for syscall_entries"; echo "$out" | grep counters; exit 1; }
  echo "$out" | grep -q '"counters.unavailable": ".*kernel_entries: needs syscall_entries' ||
    { echo "no reason for kernel_entries"; echo "$out" | grep counters; exit 1; }
fi
echo "$out" | grep '"counters'
