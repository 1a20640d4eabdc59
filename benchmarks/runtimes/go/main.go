// Command sysgate_go_helper is the Go co-process behind sysgate's getpid/go_* rows and
// baseline/go_call: it runs each way Go programs ask for their pid in its own timed loop,
// driven by sysgate_bench over stdin/stdout with the runtime line protocol
// (docs/runtimes.md, harness/coprocess/coprocess_client.h).
//
//	on start      <- "sysgate-runtime 1 pid=<pid> tid=<tid> unit=tsc runtime=<go version>"
//	probe V       <- "ok" | "err <message>"
//	run V N       <- "ok <ticks> <last result> <involuntary switches>": the switches of
//	                 this thread during the loop (getrusage RUSAGE_THREAD), so that the
//	                 driver can reject a batch that was preempted
//	percall V N T <- "ok <k> <ticks_1> ... <ticks_k>": single calls, each between its own
//	                 TSC pair less the median empty pair, stopping after T ticks (0: none)
//	quit or EOF   -> exit 0
//
// V is call (a plain non-inlined Go function), os (os.Getpid), syscall
// (syscall.Syscall(SYS_GETPID): entersyscall/exitsyscall around the instruction) or
// rawsyscall (syscall.RawSyscall: the instruction without the scheduler hooks).
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// dummyID is what baseline/go_call returns, as every runtime helper's call baseline does
// (harness/paths/runtime_paths.h: kRuntimeDummyId).
const dummyID = 0x52544753

// Lock the main goroutine to the main thread (tid == pid) before main runs: sysgate_bench
// counts kernel entries on the thread the hello line names, and a goroutine that hopped
// to another M after a system call would take its calls out of the count.
func init() { runtime.LockOSThread() }

// dummyCall is the Go counterpart of the C baseline's getdummyid: a real call that
// returns a constant. noinline keeps the compiler from folding it into the loop.
//
//go:noinline
func dummyCall() uintptr { return dummyID }

func loopCall(n uint64) uintptr {
	var r uintptr
	for i := uint64(0); i < n; i++ {
		r = dummyCall()
	}
	return r
}

func loopOs(n uint64) uintptr {
	var r int
	for i := uint64(0); i < n; i++ {
		r = os.Getpid()
	}
	return uintptr(r)
}

func loopSyscall(n uint64) uintptr {
	var r uintptr
	for i := uint64(0); i < n; i++ {
		r, _, _ = syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0)
	}
	return r
}

func loopRawSyscall(n uint64) uintptr {
	var r uintptr
	for i := uint64(0); i < n; i++ {
		r, _, _ = syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
	}
	return r
}

var variants = map[string]func(uint64) uintptr{
	"call":       loopCall,
	"os":         loopOs,
	"syscall":    loopSyscall,
	"rawsyscall": loopRawSyscall,
}

// rusageThread is RUSAGE_THREAD (include/uapi/linux/resource.h), which package syscall
// does not name.
const rusageThread = 1

// involuntarySwitches is how often this thread has been switched out against its will,
// or -1 when the kernel does not say.
func involuntarySwitches() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return -1
	}
	return ru.Nivcsw
}

// pairOverhead is the median of empty TSC pairs, subtracted from each per-call sample.
func pairOverhead() uint64 {
	const pairs = 101
	var ticks [pairs]uint64
	for i := range ticks {
		t0 := tscStart()
		ticks[i] = tscStop() - t0
	}
	s := ticks[:]
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[pairs/2]
}

func perCall(loop func(uint64) uintptr, max, budget uint64) string {
	overhead := pairOverhead()
	samples := make([]uint64, 0, max)
	start := tscStart()
	for uint64(len(samples)) < max && (budget == 0 || tscStart()-start < budget) {
		t0 := tscStart()
		loop(1)
		t := tscStop() - t0
		if t > overhead {
			t -= overhead
		} else {
			t = 0
		}
		samples = append(samples, t)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ok %d", len(samples))
	for _, s := range samples {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(s, 10))
	}
	return b.String()
}

func handle(request string) string {
	fields := strings.Fields(request)
	if len(fields) < 2 {
		return "err unknown request: '" + request + "'"
	}
	loop, ok := variants[fields[1]]
	if !ok {
		return "err unknown variant: '" + request + "'"
	}
	nums := make([]uint64, 0, 2)
	for _, f := range fields[2:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return "err bad request: '" + request + "'"
		}
		nums = append(nums, v)
	}
	switch {
	case fields[0] == "probe" && len(nums) == 0:
		return "ok"
	case fields[0] == "run" && len(nums) == 1:
		var r uintptr
		s0 := involuntarySwitches()
		t0 := tscStart()
		if nums[0] > 0 {
			r = loop(nums[0])
		}
		ticks := tscStop() - t0
		s1 := involuntarySwitches()
		if s0 < 0 || s1 < 0 {
			return fmt.Sprintf("ok %d %d", ticks, r)
		}
		return fmt.Sprintf("ok %d %d %d", ticks, r, s1-s0)
	case fields[0] == "percall" && len(nums) == 2:
		return perCall(loop, nums[0], nums[1])
	}
	return "err bad request: '" + request + "'"
}

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "usage: %s\n  (no arguments: speaks the runtime line protocol "+
			"of docs/runtimes.md on stdin/stdout)\n", os.Args[0])
		os.Exit(2)
	}
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	reply := func(line string) {
		out.WriteString(line)
		out.WriteByte('\n')
		out.Flush()
	}
	reply(fmt.Sprintf("sysgate-runtime 1 pid=%d tid=%d unit=tsc runtime=%s", os.Getpid(),
		syscall.Gettid(), runtime.Version()))
	for {
		line, err := in.ReadString('\n')
		line = strings.TrimSuffix(line, "\n")
		if line == "quit" || (err != nil && line == "") {
			return
		}
		reply(handle(line))
		if err != nil {
			return
		}
	}
}
