"""Every threshold sysgate judges by, in one place: the verdicts of compare, gate, trend
and calibrate, the run checks, the change points and the busy machine. A module that
decides something by a number takes the number from here (docs/methodology.md says why
each is what it is).
"""

THRESHOLD_PCT = 5.0  # smallest change of a path's figure that counts as a change
ALPHA = 0.05  # family-wise error over the paths of one comparison (Holm)
CONFIDENCE = 0.95  # the intervals shown and tested against the threshold
MIN_REPETITIONS = 10  # per side, all runs together: fewer is always "inconclusive"
MIN_PROCESSES = 2  # per side, where the files record it: fewer is "inconclusive"
# Above this coefficient of variation of its repetitions a path is called unstable (pyperf
# warns when the standard deviation is above 10% of the mean).
CV_LIMIT = 0.10
LOW_FRACTION = 0.25  # compare's figure: the mean of the fastest quarter of repetitions
MIN_FAMILY_PATHS = 3  # kernel-entering paths needed for a kernel-entry verdict
# The kernel-entry verdict (entry_model) is on the nanoseconds added per entry relative to
# the cheapest syscall round trip; it pools every kernel path, so it is judged at half a
# path's threshold unless told otherwise (--entry-threshold).
ENTRY_THRESHOLD_PCT = THRESHOLD_PCT / 2
MIN_CONTROLS = 3  # controls needed to take the machine's drift out
DRIFT_NOISE_LIMIT = 0.03  # drift interval half-width beyond which it is not taken out
ENTRY_WEIGHT_CAP = 4.0  # no path weighs more than this x the median weight in delta
LOAD_DIFF_LIMIT = 1.0  # 1-minute load averages further apart: the machine was not the same
# How busy the machine was while it measured (verdicts/busy.py), from what `sysgate run`
# sampled: a run was taken on a busy machine when other work used more than this share of
# all the CPUs, or steal took more than this share of them, or as many other tasks as
# there are CPUs were waiting to run (the median of the samples).
BUSY_OTHER_SHARE = 0.25  # of all CPUs' time (one hog on 2 CPUs is 0.5)
BUSY_STEAL_SHARE = 0.05
BUSY_RUNNABLE_PER_CPU = 1.0  # median of other runnable tasks, per CPU
# Load average (1 minute) per CPU above which other work was competing for the CPUs: the
# judgement for files that lack what was sampled while measuring (busy.py).
LOAD_PER_CPU_LIMIT = 0.5
# Two runs whose other work differed by this many CPUs were not taken on the same machine.
BUSY_DIFF_CPUS = 0.5
RESAMPLES = 5000  # bootstrap draws: the smallest p is 2/5001, Holm over 50 paths < 0.05
SEED = 20240511  # fixed, so a rerun prints the same interval
KBEST_DEFAULT = 3
# With this many runs a side, the run is the unit: each run is reduced to its own figure
# (low_mean of its repetitions), a side's figure is the median of its runs' figures, the
# interval comes from drawing runs, and the p-value from the Mann-Whitney U test on the
# run figures. Repetitions within one process are not independent, runs are; and a
# fleet's history (hundreds of runs a kernel) is compared in milliseconds rather than
# in seconds a path. Below it, repetitions carry the test (permutation test): with 7 or
# fewer runs a side an exact U test cannot pass Holm over 40 paths (Kalibera and Jones).
RUN_UNIT_MIN = 8
RUN_RESAMPLES = 1000  # run-unit bootstrap draws (the p-value does not come from them)
# Per-process modes (verdicts/modes.py): a row's per-process medians fall into two modes
# when, sorted, the largest step between neighbours is above MODE_GAP (relative) and each
# side of it spreads less than MODE_TIGHTNESS times that step; fewer than MODE_MIN_PROCESSES
# processes never make two modes (one process apart from one is noise, not a mode).
MODE_GAP = 0.10
MODE_TIGHTNESS = 0.5
MODE_MIN_PROCESSES = 3

# Bootstrap draws of an interval that is shown but tested against nothing (a side's
# figure, the per-path intervals of a single run's page).
INTERVAL_RESAMPLES = 2000
# Planning (calibrate): the normal quantiles of a two-sided 5% test and 80% power.
Z_ALPHA = 1.96
Z_POWER = 0.84
CALIBRATE_TARGET_PCT = THRESHOLD_PCT  # the shift calibrate plans for by default

# Change points of a trend series (verdicts/changepoint.py): stricter than one pairwise
# test, since a series is searched many times; a t-test needs two samples a side.
CHANGEPOINT_ALPHA = 0.01
CHANGEPOINT_MIN_SIZE = 2
CHANGEPOINT_PERMUTATIONS = 199

# Run checks (verdicts/checks.py). getpid/int80 divided by getpid/syscall: about 1.5-3x on
# bare metal (the compat entry does more work than the 64-bit one), about 100x in a guest
# where every int 0x80 reads the APIC in-service register through a VM exit. Above this
# limit the page says why.
INT80_RATIO_LIMIT = 5.0
INT80_BARE_METAL_RATIO = "1.5-3x"
OBSERVER_LIMIT = 1.10  # latency with counters open / without: above, counting distorted it
VDSO_ENTRIES_LIMIT = 0.5  # a vDSO row entering the kernel more often per call fell back
STEAL_DIFF_PCT = 1.0  # steal figures further apart (points): not the same machine
