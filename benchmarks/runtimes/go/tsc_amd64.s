// The TSC reads of sysgate_go_helper: the same fences as harness/platform/cycle_clock.h, so the Go
// rows are timed with the same clock as the C and ia32 rows (see tsc.go).

#include "textflag.h"

// func tscStart() uint64
// lfence; rdtsc; lfence: earlier instructions finish before the read, the measured code
// starts after it.
TEXT ·tscStart(SB),NOSPLIT,$0-8
	LFENCE
	RDTSC
	LFENCE
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func tscStop() uint64
// rdtscp waits for the measured code to execute; the lfence keeps later code after it.
// RDTSCP also writes CX (TSC_AUX); ABI0 treats every register as clobbered.
TEXT ·tscStop(SB),NOSPLIT,$0-8
	RDTSCP
	LFENCE
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET
