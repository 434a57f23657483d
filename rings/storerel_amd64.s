//go:build amd64 && !race

#include "textflag.h"

// func storeRelease(x *atomic.Uint64, v uint64)
//
// One plain 8-byte store to the word at x, which is the atomic.Uint64's value (see
// storerel.go). Aligned, so it is single-copy atomic; x86-TSO keeps it after every
// earlier load and store of this thread, so it is a release. No LOCK and no XCHG: the
// store waits in the store buffer for its cache line instead of stalling the thread.
TEXT ·storeRelease(SB), NOSPLIT, $0-16
	MOVQ	x+0(FP), AX
	MOVQ	v+8(FP), BX
	MOVQ	BX, (AX)
	RET
