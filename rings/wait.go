package rings

import (
	"runtime"
	"sync/atomic"
)

// Invariants (IdlePolicy, PopBatchWait):
//   - PopBatchWait moves items only through PopBatch, which it calls again after each
//     empty look, with the policy's Idle in between; so it loses, reorders and allocates
//     nothing PopBatch does not, and has PopBatch's ownership: consumer only.
//   - A look is one PopBatch: on an empty ring it loads the producer's index (SPSC's
//     tail; MPSC's head slot seq, then tail), taking that cache line from the producer,
//     whose next store must fetch it back. Idle is the time the consumer does not look:
//     the producer writes its index and slots in lines no one else reads, and the next
//     look takes what came meanwhile as one batch, one transfer of each line for many
//     items. That is the whole effect; Idle never touches the ring.
//   - Idle runs on the consumer's goroutine, between two looks of one PopBatchWait. A
//     policy's state, if any, is the consumer's: one policy value serves one consumer at
//     a time, without synchronisation.
//   - spin loads spinLine's v, which nothing writes, padded so that no other variable
//     shares its cache line: the line stays in the spinning core's cache, so spinning
//     sends nothing over the interconnect; and the atomic load is a memory operation the
//     compiler keeps, so the loop is not optimised away.

// An IdlePolicy decides how a consumer waits when it finds a ring empty. PopBatchWait
// calls Idle after each look that found nothing, with the number of such looks so far in
// that call (1, 2, ...): Idle waits as it sees fit and returns true to look again, false
// to give up, making PopBatchWait return 0. Idle runs on the consumer's goroutine and
// must not call the ring's consumer methods. Pass a long-lived pointer: a policy built
// afresh for each call may be allocated each time.
type IdlePolicy interface {
	Idle(looks int) bool
}

var _ IdlePolicy = (*Spin)(nil)

// Spin is an IdlePolicy that waits by spinning, touching no shared memory, between looks
// at an empty ring, so that the producer fills the next batch with no one pulling its
// cache lines away. The zero Spin looks once and gives up at once, as PopBatch does.
type Spin struct {
	// Spins is how long to wait before each new look, in spins of a loop that loads a
	// line no one writes (about a cycle each on amd64): long enough for several items to
	// come, a cache-line round trip or more; short enough that the ring does not fill
	// meanwhile. 0 looks again at once.
	Spins int

	// Looks is how many empty looks one PopBatchWait makes before it gives up and
	// returns 0; 1 (or less) gives up after the first.
	Looks int

	// YieldEvery makes every YieldEvery-th wait end in runtime.Gosched, so that a
	// producer that shares the consumer's CPU runs; 0 never yields.
	YieldEvery int
}

// Idle spins s.Spins times, yielding afterwards on every s.YieldEvery-th look, and
// reports whether fewer than s.Looks looks have been made. Consumer only.
func (s *Spin) Idle(looks int) bool {
	if looks >= s.Looks {
		return false
	}
	spin(s.Spins)
	if s.YieldEvery > 0 && looks%s.YieldEvery == 0 {
		runtime.Gosched()
	}
	return true
}

// spinLine is what spin loads: v is read, never written, and alone in its cache line.
var spinLine struct {
	_ [cacheLinePad]byte
	v atomic.Uint32
	_ [cacheLinePad]byte
}

// spin busy-waits for n loads of spinLine.v.
func spin(n int) {
	for i := 0; i < n; i++ {
		spinLine.v.Load()
	}
}

// PopBatchWait is PopBatch that, finding the ring empty, waits as w says and looks
// again, so that items accumulate into one batch rather than the consumer pulling the
// producer's cache lines away to take each as it comes. It returns how many items it
// moved into dst: 0 only when dst is empty or w gave up. Consumer only; w.Idle runs on
// the caller's goroutine.
func (r *SPSC[T]) PopBatchWait(dst []T, w IdlePolicy) int {
	for looks := 1; ; looks++ {
		if n := r.PopBatch(dst); n > 0 || len(dst) == 0 || !w.Idle(looks) {
			return n
		}
	}
}

// PopBatchWait is PopBatch that, finding the ring empty, waits as w says and looks
// again, so that items accumulate into one batch rather than the consumer pulling the
// producers' cache lines away to take each as it comes. It returns how many items it
// moved into dst: 0 only when dst is empty or w gave up. Consumer only; w.Idle runs on
// the caller's goroutine.
func (q *MPSC[T]) PopBatchWait(dst []T, w IdlePolicy) int {
	for looks := 1; ; looks++ {
		if n := q.PopBatch(dst); n > 0 || len(dst) == 0 || !w.Idle(looks) {
			return n
		}
	}
}
