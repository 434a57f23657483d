// Package park parks one OS thread on a futex and lets any goroutine wake it: the
// sleeping half of a vCPU's spin-park idle strategy, and the thing calibration measures
// as the futex wake floor. A channel would go through the Go scheduler's wake path,
// which costs tens of microseconds on small machines (DESIGN.md §2).
package park

import (
	"sync/atomic"
	"unsafe"
)

// Invariants (Parker):
//   - state is running or parked.
//   - Only the owning thread moves running → parked (Prepare) and takes the state back
//     (Cancel) after re-checking its work sources.
//   - Any goroutine may move parked → running (Unpark), and issues a futex wake only
//     when its CAS won: a running owner costs a waker one load and nothing else.
//   - Lost wake-ups are impossible: a waker publishes work, then loads state; the owner
//     stores parked, then re-checks work. Go's atomics are sequentially consistent, so at
//     least one of the two sees the other's write (Dekker). The work's publication must
//     be such an atomic: a vCPU's pending mask is (an Or), and a DPC queue's is the CAS
//     that claims the position (MPSC's tail, which the owner's Len reads), not the
//     release store that publishes the slot after it (rings.MPSC).

const (
	running uint32 = 0
	parked  uint32 = 1
)

// Parker parks its owner's OS thread on a futex word. The zero value is ready to use.
type Parker struct {
	state atomic.Uint32 // owner: running→parked; anyone: parked→running
	wakes atomic.Uint64 // futex wakes issued; any waker increments
}

// word returns the futex word: an atomic.Uint32 is laid out as its uint32.
func (p *Parker) word() *uint32 { return (*uint32)(unsafe.Pointer(&p.state)) }

// Prepare announces that the owner is about to park. Owner only. The owner must then
// re-check every work source and call Cancel or Park.
func (p *Parker) Prepare() { p.state.Store(parked) }

// Cancel withdraws a Prepare because work arrived. Owner only.
func (p *Parker) Cancel() { p.state.Store(running) }

// Park blocks the owner's OS thread until Unpark. Owner only, after Prepare.
func (p *Parker) Park() {
	for p.state.Load() == parked {
		futexWait(p.word(), parked)
	}
}

// Unpark wakes the owner if it is parked or about to park, and reports whether it did.
// Any goroutine; call it after publishing the work the owner should see.
func (p *Parker) Unpark() bool {
	if p.state.Load() != parked || !p.state.CompareAndSwap(parked, running) {
		return false
	}
	p.wakes.Add(1)
	futexWake(p.word(), 1)
	return true
}

// Wakes returns how many futex wakes Unpark issued.
func (p *Parker) Wakes() uint64 { return p.wakes.Load() }
