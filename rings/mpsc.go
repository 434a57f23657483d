package rings

import (
	"sync/atomic"
	"unsafe"
)

// Invariants (MPSC), after Dmitry Vyukov's bounded MPMC queue, specialised to one consumer:
//   - tail and head are free-running uint64 counters; position i uses slot i&mask.
//   - Each slot carries a sequence number seq. seq == i means slot is free for the producer
//     that claims position i; seq == i+1 means it holds the item of position i; the consumer
//     frees it for position i+cap by storing seq = i+cap.
//   - A producer claims position i by CAS on tail (tail only grows), writes the value,
//     then publishes it with seq.Store(i+1). The consumer reads the value only after
//     seq.Load() == head+1, and frees the slot with seq.Store(head+cap) after clearing it.
//   - Only the consumer writes head.
//   - Lock-free: a producer that loses the CAS retries; none waits for another. The consumer
//     may find position head claimed but not yet published, and then reports empty.

// MPSC is a bounded multi-producer single-consumer ring. Any goroutine may call Push; one
// goroutine at a time may call the consumer methods (Pop, PopBatch); Len and Cap may be
// called by anyone.
type MPSC[T any] struct {
	_ [cacheLinePad]byte

	tail atomic.Uint64 // next position to claim; any producer, by CAS
	_    [cacheLinePad - unsafe.Sizeof(atomic.Uint64{})]byte

	head atomic.Uint64 // next position to pop; the consumer only
	_    [cacheLinePad - unsafe.Sizeof(atomic.Uint64{})]byte

	slots []mpscSlot[T]
	mask  uint64
}

type mpscSlot[T any] struct {
	seq atomic.Uint64
	val T
}

// NewMPSC returns an empty ring holding up to capacity items, a power of two.
func NewMPSC[T any](capacity int) (*MPSC[T], error) {
	return newMPSCAt[T](capacity, 0)
}

func newMPSCAt[T any](capacity int, start uint64) (*MPSC[T], error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	q := &MPSC[T]{slots: make([]mpscSlot[T], capacity), mask: uint64(capacity - 1)}
	for i := range q.slots {
		// Position p = start + k lives at slot p&mask; it is free for position p.
		p := start + uint64(i)
		q.slots[p&q.mask].seq.Store(p)
	}
	q.tail.Store(start)
	q.head.Store(start)
	return q, nil
}

// Cap returns the ring's capacity.
func (q *MPSC[T]) Cap() int { return len(q.slots) }

// Len returns the number of claimed positions not yet popped: a snapshot. Any goroutine.
func (q *MPSC[T]) Len() int {
	head := q.head.Load()
	tail := q.tail.Load()
	n := tail - head
	if n > uint64(len(q.slots)) {
		return 0
	}
	return int(n)
}

// Push appends v and reports whether there was room. Any goroutine.
func (q *MPSC[T]) Push(v T) bool {
	for {
		pos := q.tail.Load()
		s := &q.slots[pos&q.mask]
		seq := s.seq.Load()
		switch d := int64(seq - pos); {
		case d == 0:
			if q.tail.CompareAndSwap(pos, pos+1) {
				s.val = v
				s.seq.Store(pos + 1)
				return true
			}
		case d < 0:
			return false // the slot still holds position pos-cap: full
		}
		// d > 0: another producer claimed pos; reload tail and retry.
	}
}

// Pop removes and returns the oldest published item. Consumer only.
func (q *MPSC[T]) Pop() (v T, ok bool) {
	head := q.head.Load()
	s := &q.slots[head&q.mask]
	if s.seq.Load() != head+1 {
		return v, false // empty, or the producer of head has not published yet
	}
	v = s.val
	var zero T
	s.val = zero
	s.seq.Store(head + uint64(len(q.slots)))
	q.head.Store(head + 1)
	return v, true
}

// PopBatch moves the oldest published items into dst, as many as fit and stopping at the
// first unpublished one, and returns how many. Consumer only.
func (q *MPSC[T]) PopBatch(dst []T) int {
	head := q.head.Load()
	var zero T
	n := 0
	for n < len(dst) {
		s := &q.slots[(head+uint64(n))&q.mask]
		if s.seq.Load() != head+uint64(n)+1 {
			break
		}
		dst[n] = s.val
		s.val = zero
		s.seq.Store(head + uint64(n) + uint64(len(q.slots)))
		n++
	}
	if n > 0 {
		q.head.Store(head + uint64(n))
	}
	return n
}
