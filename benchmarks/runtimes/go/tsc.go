package main

// The helper times its loops with the TSC rather than time.Now (runtime.nanotime): it is
// the clock sysgate_bench and the ia32 helper use, so the driver needs no conversion, and
// a fenced pair costs about as much as sysgate_bench's own (which the per-call pass
// corrects for). nanotime is a vDSO clock_gettime call (20-30 ns here) that becomes a real
// system call when the clocksource is not vDSO-capable, as in many VMs: around a single
// ~100 ns call that would swamp the figure (docs/runtimes.md).

// tscStart reads the TSC before the measured code (tsc_amd64.s).
func tscStart() uint64

// tscStop reads the TSC after the measured code (tsc_amd64.s).
func tscStop() uint64
