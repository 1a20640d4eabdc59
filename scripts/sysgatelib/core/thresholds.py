"""Every threshold, confidence level, resample count and minimum effect a verdict or a
warning uses, named once (gbench's UTEST_MIN_REPETITIONS): compare, gate, trend,
calibrate, bisect, the checks of a run and the environment diff read them from here.
docs/regressions.md explains the choices. This module imports nothing, so that every
floor of the package (results/ below verdicts/) can read it.
"""

# --- a comparison's verdict (compare, gate, bisect, trend's steps) -----------------------
THRESHOLD_PCT = 5.0  # smallest change of a path's figure that counts as a change
ALPHA = 0.05  # family-wise error over the paths of one comparison (Holm)
CONFIDENCE = 0.95  # the intervals shown and tested against the threshold
MIN_REPETITIONS = 10  # per side, all runs together: fewer is always "inconclusive"
MIN_PROCESSES = 2  # per side, where the files record it: fewer is "inconclusive"
CV_LIMIT = 0.10  # above this CV of the repetitions a path is called unstable (pyperf)
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
# How busy the machine was while it measured (results/busy.py), from what `sysgate run`
# sampled: a run was taken on a busy machine when other work used more than this share of
# all the CPUs, or steal took more than this share of them, or as many other tasks as
# there are CPUs were waiting to run (the median of the samples).
BUSY_OTHER_SHARE = 0.25  # of all CPUs' time (one hog on 2 CPUs is 0.5)
BUSY_STEAL_SHARE = 0.05
BUSY_RUNNABLE_PER_CPU = 1.0  # median of other runnable tasks, per CPU
# Two runs whose other work differed by this many CPUs were not taken on the same machine.
BUSY_DIFF_CPUS = 0.5
RESAMPLES = 5000  # bootstrap draws: the smallest p is 2/5001, Holm over 50 paths < 0.05
# Bootstrap draws of an interval alone (no p-value is read from them): a side's figure,
# a median, a percentile.
INTERVAL_RESAMPLES = 2000
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

# --- a run's checks (verdicts/checks.py) --------------------------------------------------
# getpid/int80 divided by getpid/syscall: about 1.5-3x on bare metal (the compat entry
# does more work than the 64-bit one), about 100x in a guest where every int 0x80 reads
# the APIC in-service register through a VM exit. Above this, the page says why.
INT80_RATIO_LIMIT = 5.0
# Latency with counters open divided by without; above this, say counting distorted it.
OBSERVER_LIMIT = 1.10
# A vDSO row with more kernel entries per call than this fell back to a syscall.
VDSO_ENTRIES_LIMIT = 0.5
# The harness's vdso_fallback counter (the share of checked calls that made a syscall)
# at or above which the row fell back.
VDSO_FALLBACK_SHARE = 0.5
# Load average (1 minute) per CPU above which other work was competing for the CPUs: the
# judgement for files that lack what was sampled while measuring (results/busy.py).
LOAD_PER_CPU_LIMIT = 0.5
# Two runs' steal figures (percent) further apart than this were not taken alike.
STEAL_DIFF_LIMIT = 1.0

# --- change points over a series (verdicts/changepoint.py, trend) -------------------------
CHANGEPOINT_ALPHA = 0.01  # stricter than one pairwise test: a series is searched many times
CHANGEPOINT_MIN_SIZE = 2  # samples on each side of a split: a t-test needs two
CHANGEPOINT_PERMUTATIONS = 199
# E-Divisive's test takes every value of a series as an independent observation. Over this
# many values in a series (a store of 10,000 runs holds hundreds of runs and thousands of
# repetitions a kernel), each kernel's values are summarised by evenly spaced quantiles,
# so that a level shift of a fraction of a percent, which thousands of values would make
# "significant", is not split on; the --threshold filter then drops the small ones left.
CHANGEPOINT_MAX_SAMPLES = 1200

# --- calibrate ------------------------------------------------------------------------------
CALIBRATE_TARGET_PCT = 5.0  # the shift the detection limits are planned for
