"""sysgate_python_helper: the Python co-process behind getpid/python_os and
baseline/python_call.

sysgate_bench starts it with /usr/bin/python3 (Debian's CPython) and drives it over
stdin/stdout with the runtime line protocol (docs/runtimes.md,
harness/coprocess/coprocess_client.h):

    on start      <- "sysgate-runtime 1 pid=<pid> tid=<tid> unit=ns runtime=<python version>"
    probe V       <- "ok" | "err <message>"
    run V N       <- "ok <ns> <last result> <involuntary switches>": this thread's during
                     the loop (getrusage RUSAGE_THREAD), so that the driver can reject a
                     batch that was preempted
    percall V N T <- "ok <k> <ns_1> ... <ns_k>": single calls, each between its own
                     time.perf_counter_ns pair less the median empty pair, stopping after
                     T ns (0: no limit)
    quit or EOF   -> exit 0

V is call (a plain Python function returning a constant) or os (os.getpid()). Both loops
are the same code with the callee bound to a local name, so they differ only in what is
called; itertools.repeat is the cheapest loop CPython has (no int object per iteration).
"""

import itertools
import os
import platform
import resource
import sys
import threading
import time

# What baseline/python_call returns (harness/paths/runtime_paths.h: kRuntimeDummyId).
DUMMY_ID = 0x52544753
PAIRS = 101
# CPython 3.11 specializes ("quickens") a code object's instructions after a few
# executions; one batch this long before the first measurement covers it.
WARM_CALLS = 10_000


def dummy_call():
    return DUMMY_ID


VARIANTS = {"call": dummy_call, "os": os.getpid}


def run_loop(fn, n):
    r = 0
    for _ in itertools.repeat(None, n):
        r = fn()
    return r


def involuntary_switches():
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw


def pair_overhead(clock=time.perf_counter_ns):
    pairs = []
    for _ in range(PAIRS):
        t0 = clock()
        pairs.append(clock() - t0)
    pairs.sort()
    return pairs[PAIRS // 2]


def sample(fn, max_samples, budget, overhead):
    clock = time.perf_counter_ns
    samples = []
    start = clock()
    while len(samples) < max_samples and (budget == 0 or clock() - start < budget):
        t0 = clock()
        fn()
        samples.append(max(0, clock() - t0 - overhead))
    return samples


def handle(request, warm):
    fields = request.split()
    if len(fields) < 2:
        return f"err unknown request: '{request}'"
    fn = VARIANTS.get(fields[1])
    if fn is None:
        return f"err unknown variant: '{request}'"
    try:
        nums = [int(f) for f in fields[2:]]
    except ValueError:
        return f"err bad request: '{request}'"
    verb = fields[0]
    if any(n < 0 for n in nums) or (verb, len(nums)) not in (
            ("probe", 0), ("run", 1), ("percall", 2)):
        return f"err bad request: '{request}'"
    if verb == "probe":
        return "ok"
    if fields[1] not in warm:
        warm.add(fields[1])
        run_loop(fn, WARM_CALLS)
        sample(fn, 100, 0, 0)
    if verb == "run":
        clock = time.perf_counter_ns
        s0 = involuntary_switches()
        t0 = clock()
        r = run_loop(fn, nums[0]) if nums[0] else 0
        t = clock() - t0
        return f"ok {t} {r} {involuntary_switches() - s0}"
    samples = sample(fn, nums[0], nums[1], pair_overhead())
    return " ".join(["ok", str(len(samples)), *map(str, samples)])


def main(argv):
    if len(argv) > 1:
        print(f"usage: {argv[0]}\n  (no arguments: speaks the runtime line protocol of "
              "docs/runtimes.md on stdin/stdout)", file=sys.stderr)
        return 2
    out = sys.stdout
    out.write(f"sysgate-runtime 1 pid={os.getpid()} tid={threading.get_native_id()} unit=ns "
              f"runtime=python{platform.python_version()}\n")
    out.flush()
    warm = set()
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line == "quit":
            break
        out.write(handle(line, warm) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
