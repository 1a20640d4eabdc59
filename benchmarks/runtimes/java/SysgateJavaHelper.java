// SysgateJavaHelper: the Java co-process behind sysgate's getpid/java_processhandle row and
// baseline/java_call. It runs each call in its own timed loop, driven by sysgate_bench over
// stdin/stdout with the runtime line protocol (docs/runtimes.md,
// harness/coprocess/coprocess_client.h):
//
//   on start      <- "sysgate-runtime 1 pid=<pid> tid=<tid> unit=ns runtime=<java version>"
//   probe V       <- "ok" | "err <message>"
//   run V N       <- "ok <ns> <last result> <involuntary switches>": this thread's during
//                    the loop (nonvoluntary_ctxt_switches of /proc/thread-self/status), so
//                    that the driver can reject a batch that was preempted
//   percall V N T <- "ok <k> <ns_1> ... <ns_k>": single calls, each between its own
//                    System.nanoTime pair less the median empty pair, stopping after T ns
//   quit or EOF   -> exit 0
//
// V is call (a plain method that returns a constant) or processhandle
// (ProcessHandle.current().pid()). sysgate_bench starts the JVM with
// -XX:CompileCommand=dontinline for both methods (harness/paths/runtime_paths.cc), so each loop
// iteration stays a real call after the JIT has compiled it, like the C rows' calls.
//
// Warm-up: sysgate_bench starts the JVM with -Xbatch, so the JIT compiles in the
// foreground: a method that crosses a compile threshold is compiled before the call
// returns. The first run or percall of a variant first calls its batch loop and its
// single-call sampler WARM_ROUNDS times each (twice Tier4InvocationThreshold, 5000: every
// method on the measured path is then C2 code entered from its normal entry, not an
// on-stack replacement), which takes a few milliseconds. The JIT is deterministic here:
// no wall-clock criterion that a busy machine could stretch (docs/runtimes.md).
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

public final class SysgateJavaHelper {
  // What baseline/java_call returns (harness/paths/runtime_paths.h: kRuntimeDummyId).
  static final long DUMMY_ID = 0x52544753L;

  static final int WARM_ROUNDS = 10_000;
  static final long WARM_BATCH = 100;  // calls per round of the batch loop
  static final int WARM_SAMPLES = 10;  // calls per round of the sampler

  static final int PAIRS = 101;

  // Never inlined (CompileCommand=dontinline): a plain call returning a constant.
  static long dummyCall() {
    return DUMMY_ID;
  }

  // Never inlined: one ProcessHandle.current().pid(), everything it calls inlined.
  static long processHandlePid() {
    return ProcessHandle.current().pid();
  }

  // Each variant has its own loop and sampler, not shared code calling through an
  // interface: the JIT profiles per method, and a call site shared by two variants would
  // be compiled as a bimorphic dispatch that neither C row has.
  interface Variant {
    long loop(long n);

    // Up to `max` single calls into `out`, each less `overhead`, within `budget` ns (0: no
    // limit); returns how many.
    int sample(long[] out, int max, long budget, long overhead);
  }

  static final class Call implements Variant {
    public long loop(long n) {
      long r = 0;
      for (long i = 0; i < n; i++) r = dummyCall();
      return r;
    }

    public int sample(long[] out, int max, long budget, long overhead) {
      final long start = System.nanoTime();
      int k = 0;
      while (k < max && (budget == 0 || System.nanoTime() - start < budget)) {
        long t0 = System.nanoTime();
        dummyCall();
        out[k++] = Math.max(0, System.nanoTime() - t0 - overhead);
      }
      return k;
    }
  }

  static final class ProcessHandlePid implements Variant {
    public long loop(long n) {
      long r = 0;
      for (long i = 0; i < n; i++) r = processHandlePid();
      return r;
    }

    public int sample(long[] out, int max, long budget, long overhead) {
      final long start = System.nanoTime();
      int k = 0;
      while (k < max && (budget == 0 || System.nanoTime() - start < budget)) {
        long t0 = System.nanoTime();
        processHandlePid();
        out[k++] = Math.max(0, System.nanoTime() - t0 - overhead);
      }
      return k;
    }
  }

  static Variant find(String name) {
    switch (name) {
      case "call":
        return new Call();
      case "processhandle":
        return new ProcessHandlePid();
      default:
        return null;
    }
  }

  private final Set<String> warm = new HashSet<>();

  // Runs `v`'s loop and sampler until both are compiled (see the header).
  static void warmUp(Variant v) {
    long[] samples = new long[WARM_SAMPLES];
    final long overhead = pairOverhead();
    for (int i = 0; i < WARM_ROUNDS; i++) {
      v.loop(WARM_BATCH);
      // A budget and the overhead, as percall requests have, so the compiled sampler has
      // seen those branches (a branch it never saw is a deoptimization mid-pass).
      v.sample(samples, samples.length, Long.MAX_VALUE / 2, overhead);
    }
  }

  static final java.nio.file.Path STATUS = Paths.get("/proc/thread-self/status");
  static final String NONVOLUNTARY = "nonvoluntary_ctxt_switches:";

  // How often this thread has been switched out against its will, or -1 when unknown.
  static long involuntarySwitches() {
    try {
      String status = Files.readString(STATUS, StandardCharsets.US_ASCII);
      int at = status.indexOf(NONVOLUNTARY);
      if (at < 0) return -1;
      int end = status.indexOf('\n', at);
      return Long.parseLong(
          status.substring(at + NONVOLUNTARY.length(), end < 0 ? status.length() : end).trim());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  static long pairOverhead() {
    long[] t = new long[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
      long t0 = System.nanoTime();
      t[i] = System.nanoTime() - t0;
    }
    Arrays.sort(t);
    return t[PAIRS / 2];
  }

  String handle(String request) {
    String[] f = request.trim().split(" +");
    if (f.length < 2) return "err unknown request: '" + request + "'";
    Variant v = find(f[1]);
    if (v == null) return "err unknown variant: '" + request + "'";
    long[] nums = new long[f.length - 2];
    try {
      for (int i = 2; i < f.length; i++) {
        nums[i - 2] = Long.parseUnsignedLong(f[i]);
        if (nums[i - 2] < 0) return "err bad request: '" + request + "'";
      }
    } catch (NumberFormatException e) {
      return "err bad request: '" + request + "'";
    }
    if (f[0].equals("probe") && nums.length == 0) return "ok";
    final boolean run = f[0].equals("run") && nums.length == 1;
    final boolean percall = f[0].equals("percall") && nums.length == 2;
    if (!run && !percall) return "err bad request: '" + request + "'";
    if (warm.add(f[1])) warmUp(v);
    if (run) {
      final long s0 = involuntarySwitches();
      final long t0 = System.nanoTime();
      final long r = nums[0] > 0 ? v.loop(nums[0]) : 0;
      final long t = System.nanoTime() - t0;
      final long s1 = involuntarySwitches();
      return "ok " + t + " " + r + (s0 < 0 || s1 < 0 ? "" : " " + (s1 - s0));
    }
    if (nums[0] > Integer.MAX_VALUE - 8) return "err bad request: '" + request + "'";
    long[] samples = new long[(int) nums[0]];
    int k = v.sample(samples, samples.length, nums[1], pairOverhead());
    StringBuilder b = new StringBuilder(8 + 6 * k).append("ok ").append(k);
    for (int i = 0; i < k; i++) b.append(' ').append(samples[i]);
    return b.toString();
  }

  // The OS thread id of the calling thread: the launcher runs main() in a thread of its
  // own, not the process's first thread, and sysgate_bench counts kernel entries on this
  // one. /proc/thread-self resolves to "<pid>/task/<tid>" for whoever reads it.
  static long nativeTid() {
    try {
      String link = Files.readSymbolicLink(Paths.get("/proc/thread-self")).toString();
      return Long.parseLong(link.substring(link.lastIndexOf('/') + 1));
    } catch (IOException | RuntimeException e) {
      return ProcessHandle.current().pid();
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length > 0) {
      System.err.println(
          "usage: java SysgateJavaHelper\n  (no arguments: speaks the runtime line protocol "
              + "of docs/runtimes.md on stdin/stdout)");
      System.exit(2);
    }
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.US_ASCII);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    out.print("sysgate-runtime 1 pid=" + ProcessHandle.current().pid() + " tid=" + nativeTid()
        + " unit=ns runtime=java" + Runtime.version() + "\n");
    out.flush();
    SysgateJavaHelper helper = new SysgateJavaHelper();
    for (String line; (line = in.readLine()) != null; ) {
      if (line.equals("quit")) break;
      out.print(helper.handle(line) + "\n");
      out.flush();
    }
  }
}
