package core

import (
	"sync/atomic"
	"unsafe"
)

// Invariants (parker):
//   - state is parkRunning or parkParked.
//   - Only the owning thread moves parkRunning → parkParked (prepare) and takes the
//     state back (cancel) after re-checking its work sources.
//   - Any goroutine may move parkParked → parkRunning (unpark), and issues a futex wake
//     only when its CAS won: a running owner costs a waker one load and nothing else.
//   - Lost wake-ups are impossible: a waker publishes work, then loads state; the owner
//     stores parkParked, then re-checks work. Go's atomics are sequentially consistent,
//     so at least one of the two sees the other's write (Dekker).

const (
	parkRunning uint32 = 0
	parkParked  uint32 = 1
)

// parker parks one OS thread on a futex word and lets any goroutine wake it. It is the
// spin-park idle strategy's sleeping half: a channel would go through the Go scheduler's
// wake path, which costs tens of microseconds on small machines (DESIGN.md §2).
type parker struct {
	state atomic.Uint32 // owner: running→parked; anyone: parked→running
	wakes atomic.Uint64 // futex wakes issued; any waker increments
}

// word returns the futex word: an atomic.Uint32 is laid out as its uint32.
func (p *parker) word() *uint32 { return (*uint32)(unsafe.Pointer(&p.state)) }

// prepare announces that the owner is about to park. Owner only. The owner must then
// re-check every work source and call cancel or park.
func (p *parker) prepare() { p.state.Store(parkParked) }

// cancel withdraws a prepare because work arrived. Owner only.
func (p *parker) cancel() { p.state.Store(parkRunning) }

// park blocks the owner's OS thread until unpark. Owner only, after prepare.
func (p *parker) park() {
	for p.state.Load() == parkParked {
		futexWait(p.word(), parkParked)
	}
}

// unpark wakes the owner if it is parked or about to park, and reports whether it did.
// Any goroutine; call it after publishing the work the owner should see.
func (p *parker) unpark() bool {
	if p.state.Load() != parkParked || !p.state.CompareAndSwap(parkParked, parkRunning) {
		return false
	}
	p.wakes.Add(1)
	futexWake(p.word(), 1)
	return true
}
