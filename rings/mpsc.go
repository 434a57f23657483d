package rings

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Invariants (MPSC). The design is the LMAX disruptor's multi-producer sequencer, or
// Dmitry Vyukov's bounded queue with the consumer's slot writes replaced by one store of
// head:
//   - tail and head are free-running uint64 positions; position p lives in slots[p&mask].
//     The items are the positions [head, tail), claimed by producers; 0 <= tail-head <= cap.
//   - A producer claims the positions [p, p+n) by one CAS of tail from p to p+n (n is 1
//     for Push, up to len(vs) for PushBatch), after checking that p+n-head <= cap against
//     a value of head no newer than the CAS (so each slot's previous item, position
//     p+i-cap, has been released). Only the producer that claimed a position writes its
//     slot until the consumer releases it; for each position p+i in order it writes val,
//     then publishes it with a release store (storeRelease) of p+i+1 into seq.
//   - A slot's seq is the last position published in it, plus one; a slot that has never
//     held an item holds the first position it will hold. So seq == p+1 exactly when
//     position p is published: positions sharing a slot differ by multiples of cap, and
//     no position is published before the previous one in its slot is released.
//   - Only the consumer writes head. It reads slot p only after seq.Load() == p+1, reads
//     (and, for pointer types, clears) val, and releases it with a release store of head
//     (one store for a whole batch). It never writes seq.
//   - cachedHead is a value of head some producer loaded and stored back for the others
//     (so cachedHead <= head, possibly older than another producer's copy: stores may
//     land out of order, which only makes it more conservative). Producers load head
//     itself only when cachedHead says the ring may be full.
//   - Push and PushBatch are lock-free: a producer that loses the CAS retries, and it
//     loses only because another claimed a position. A batch takes effect at its CAS,
//     whole; the consumer may take its published prefix before the rest is written.
//   - Pop waits for no item, but when head is claimed and not yet published (tail !=
//     head, seq != head+1) it waits for that producer's next store, the price of
//     answering linearizably (see Pop).
//   - The read-only fields, the producers' block (tail, cachedHead) and the consumer's
//     block (head) each have a 128-byte-aligned block of their own.

// MPSC is a bounded multi-producer single-consumer ring. Any goroutine may call Push and
// PushBatch, any number at once. One goroutine at a time may call the consumer methods
// (Pop, PopBatch, PopBatchWait). Len and Cap may be called by any goroutine.
//
// A producer's claim of positions is a CAS, a full barrier; its publication of the
// slot, and the consumer's release of slots, are release stores (storerel.go), ordered
// after what came before but not before later loads. A caller that needs a push visible
// before its next load of another variable can count on the claim's CAS only for the
// claim (tail, which Len reads), not for the item: see SPSC.
type MPSC[T any] struct {
	// Read-only after construction.
	slots []mpscSlot[T]
	mask  uint64
	clear bool // T holds pointers: clear a slot when its item leaves
	_     [cacheLinePad - unsafe.Sizeof(readOnlyFields{})%cacheLinePad]byte

	prod mpscProducers
	_    [cacheLinePad - unsafe.Sizeof(mpscProducers{})%cacheLinePad]byte

	head atomic.Uint64 // written by the consumer (store releases slots); loaded by producers and Len
	_    [cacheLinePad - unsafe.Sizeof(atomic.Uint64{})%cacheLinePad]byte
}

// mpscProducers is the block every producer writes.
type mpscProducers struct {
	tail       atomic.Uint64 // next position to claim: any producer, by CAS; loaded by the consumer and Len
	cachedHead atomic.Uint64 // any producer: a value of head a producer loaded
}

// mpscSlot is one slot: the item and the publication of its position.
type mpscSlot[T any] struct {
	seq atomic.Uint64 // stored by the producer that claimed the slot's position p (p+1 publishes); loaded by the consumer
	val T             // written by that producer before the store; read by the consumer after loading p+1
}

// NewMPSC returns an empty ring for up to capacity items. The capacity must be a power of
// two between 2 and MaxCapacity; otherwise the error matches ErrCapacity.
func NewMPSC[T any](capacity int) (*MPSC[T], error) {
	return newMPSCAt[T](capacity, 0)
}

// newMPSCAt is NewMPSC with both positions starting at start, so that tests can cross the
// 2^64 wrap.
func newMPSCAt[T any](capacity int, start uint64) (*MPSC[T], error) {
	if err := checkCapacity("NewMPSC", capacity); err != nil {
		return nil, err
	}
	q := &MPSC[T]{slots: make([]mpscSlot[T], capacity), mask: uint64(capacity - 1), clear: hasPointers[T]()}
	for k := uint64(0); k < uint64(capacity); k++ {
		p := start + k // the first position slot p&mask will hold: not published
		q.slots[p&q.mask].seq.Store(p)
	}
	q.prod.tail.Store(start)
	q.prod.cachedHead.Store(start)
	q.head.Store(start)
	return q, nil
}

// Cap returns the ring's capacity. Any goroutine.
func (q *MPSC[T]) Cap() int { return len(q.slots) }

// Len returns the number of items in the ring, counting those whose Push has claimed a
// slot and not yet returned. Any goroutine; it is a snapshot, exact when nothing is
// moving, and always between 0 and Cap.
func (q *MPSC[T]) Len() int {
	head := q.head.Load() // first: tail only grows, so tail >= head below
	n := q.prod.tail.Load() - head
	if n > uint64(len(q.slots)) {
		n = uint64(len(q.slots)) // both moved between the loads
	}
	return int(n)
}

// Push appends v and reports whether there was room; false means the ring was full. Any
// goroutine; lock-free.
func (q *MPSC[T]) Push(v T) bool {
	c := uint64(len(q.slots))
	for {
		pos := q.prod.tail.Load()
		if pos-q.prod.cachedHead.Load() >= c { // may be full (or cachedHead is newer than pos)
			head := q.head.Load()
			d := pos - head
			if int64(d) < 0 {
				continue // pos is stale: the consumer has popped past it
			}
			if d >= c {
				return false // full when head was loaded: tail >= pos
			}
			q.prod.cachedHead.Store(head)
		}
		if q.prod.tail.CompareAndSwap(pos, pos+1) {
			s := &q.slots[pos&q.mask]
			s.val = v
			storeRelease(&s.seq, pos+1) // publishes the slot
			return true
		}
		// Another producer claimed pos: try the next.
	}
}

// PushBatch appends a prefix of vs and returns its length: as much of vs as there is room
// for, claimed with one CAS, so the prefix stays together in the ring, in order, however
// many producers push at once. It returns 0 only when the ring is full (or vs empty); a
// batch that finds less room than it asks for takes what there is. Any goroutine;
// lock-free.
func (q *MPSC[T]) PushBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	c := uint64(len(q.slots))
	for {
		pos := q.prod.tail.Load()
		used := pos - q.prod.cachedHead.Load()
		if used > c || c-used < uint64(len(vs)) { // too little room (or cachedHead is newer than pos)
			head := q.head.Load()
			used = pos - head
			if int64(used) < 0 {
				continue // pos is stale: the consumer has popped past it
			}
			if used >= c {
				return 0 // full when head was loaded: tail >= pos
			}
			q.prod.cachedHead.Store(head)
		}
		n := min(uint64(len(vs)), c-used)
		if q.prod.tail.CompareAndSwap(pos, pos+n) {
			for i, v := range vs[:n] {
				p := pos + uint64(i)
				s := &q.slots[p&q.mask]
				s.val = v
				storeRelease(&s.seq, p+1) // publishes the slot
			}
			return int(n)
		}
		// Another producer claimed pos: try again from the new tail.
	}
}

// Pop removes and returns the oldest item; ok is false when the ring is empty. Consumer
// only.
//
// Pop never waits for an item no producer has claimed. But if a producer has claimed the
// oldest position and not yet written it (it is between its claim and its publishing
// store, a few instructions for each item of its batch before that one), Pop waits for
// it, spinning and then yielding, rather than answer "empty" while a later Push may
// already have returned: that answer would not be linearizable. A producer descheduled
// inside that window delays the consumer until it runs again; it cannot lose or reorder
// anything.
func (q *MPSC[T]) Pop() (v T, ok bool) {
	head := q.head.Load()
	s := &q.slots[head&q.mask]
	if s.seq.Load() != head+1 {
		if q.prod.tail.Load() == head {
			return v, false // nothing claimed: empty when tail was loaded
		}
		q.awaitPublished(s, head)
	}
	v = s.val
	if q.clear {
		var zero T
		s.val = zero // drop the ring's reference
	}
	storeRelease(&q.head, head+1) // releases the slot
	return v, true
}

// PopBatch moves the oldest items into dst, as many as dst has room for, stopping before
// the first one whose Push has not yet published it, and returns how many: 0 only when
// the ring is empty or dst is. If the oldest item is claimed and not yet published it
// waits for it, as Pop does. It releases their slots with one store. Consumer only.
func (q *MPSC[T]) PopBatch(dst []T) int {
	if len(dst) == 0 {
		return 0
	}
	head := q.head.Load()
	s := &q.slots[head&q.mask]
	if s.seq.Load() != head+1 {
		if q.prod.tail.Load() == head {
			return 0
		}
		q.awaitPublished(s, head)
	}
	var zero T
	n := 0
	for {
		dst[n] = s.val
		if q.clear {
			s.val = zero
		}
		n++
		if n == len(dst) {
			break
		}
		p := head + uint64(n)
		s = &q.slots[p&q.mask]
		if s.seq.Load() != p+1 {
			break // not claimed, or claimed and not yet published
		}
	}
	storeRelease(&q.head, head+uint64(n)) // releases the slots
	return n
}

// awaitPublished waits until the producer that claimed position p publishes slot s.
// Consumer only.
func (q *MPSC[T]) awaitPublished(s *mpscSlot[T], p uint64) {
	for spins := 1; s.seq.Load() != p+1; spins++ {
		if spins%64 == 0 {
			runtime.Gosched() // let a descheduled producer on this P run
		}
	}
}
