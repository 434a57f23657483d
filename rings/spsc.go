package rings

import (
	"sync/atomic"
	"unsafe"
)

// Invariants (SPSC):
//   - head and tail are free-running uint64 counters; slot i lives at buf[i&mask].
//   - 0 <= tail-head <= cap at every instant (unsigned arithmetic, so it holds across the
//     2^64 wrap as well).
//   - Only the producer writes tail and the slots in [tail, head+cap); only the consumer
//     writes head and reads the slots in [head, tail).
//   - The producer publishes slots with tail.Store after writing them; the consumer
//     publishes released slots with head.Store after reading (and zeroing) them.
//   - cachedHead is the producer's private copy of head (never ahead of it); cachedTail the
//     consumer's private copy of tail. They spare a cross-core load until the ring looks
//     full (producer) or empty (consumer).

// SPSC is a bounded single-producer single-consumer ring. Exactly one goroutine at a time
// may call the producer methods (Push, PushBatch, Reserve, Commit) and exactly one the
// consumer methods (Pop, PopBatch, Peek, Release); Len and Cap may be called by anyone.
type SPSC[T any] struct {
	_ [cacheLinePad]byte

	prod spscProducer
	_    [cacheLinePad - unsafe.Sizeof(spscProducer{})%cacheLinePad]byte

	cons spscConsumer
	_    [cacheLinePad - unsafe.Sizeof(spscConsumer{})%cacheLinePad]byte

	buf   []T
	mask  uint64
	clear bool // T holds pointers: clear slots on release
}

// spscProducer is the producer's line: tail, which it writes, and its cache of head.
type spscProducer struct {
	tail       atomic.Uint64 // written by the producer only; read by the consumer
	cachedHead uint64        // producer only
}

// spscConsumer is the consumer's line: head, which it writes, and its cache of tail.
type spscConsumer struct {
	head       atomic.Uint64 // written by the consumer only; read by the producer
	cachedTail uint64        // consumer only
}

// NewSPSC returns an empty ring holding up to capacity items, a power of two.
func NewSPSC[T any](capacity int) (*SPSC[T], error) {
	return newSPSCAt[T](capacity, 0)
}

// newSPSCAt starts the indices at start, so that tests can cross the 2^64 wrap.
func newSPSCAt[T any](capacity int, start uint64) (*SPSC[T], error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	r := &SPSC[T]{buf: make([]T, capacity), mask: uint64(capacity - 1), clear: hasPointers[T]()}
	r.prod.tail.Store(start)
	r.prod.cachedHead = start
	r.cons.head.Store(start)
	r.cons.cachedTail = start
	return r, nil
}

// Cap returns the ring's capacity.
func (r *SPSC[T]) Cap() int { return len(r.buf) }

// Len returns the number of items in the ring: a snapshot, exact only when neither side
// is moving. Any goroutine.
func (r *SPSC[T]) Len() int {
	head := r.cons.head.Load()
	tail := r.prod.tail.Load()
	n := tail - head
	if n > uint64(len(r.buf)) { // head moved past our stale tail: empty
		return 0
	}
	return int(n)
}

// free returns how many slots the producer may fill, refreshing its cache of head only
// when the cache says fewer than want are free. Producer only.
func (r *SPSC[T]) free(tail uint64, want int) int {
	c := uint64(len(r.buf))
	f := c - (tail - r.prod.cachedHead)
	if f < uint64(want) {
		r.prod.cachedHead = r.cons.head.Load()
		f = c - (tail - r.prod.cachedHead)
	}
	return int(f)
}

// avail returns how many items the consumer may take, refreshing its cache of tail only
// when the cache says fewer than want are there. Consumer only.
func (r *SPSC[T]) avail(head uint64, want int) int {
	a := r.cons.cachedTail - head
	if a < uint64(want) {
		r.cons.cachedTail = r.prod.tail.Load()
		a = r.cons.cachedTail - head
	}
	return int(a)
}

// Push appends v and reports whether there was room. Producer only.
func (r *SPSC[T]) Push(v T) bool {
	tail := r.prod.tail.Load()
	if r.free(tail, 1) == 0 {
		return false
	}
	r.buf[tail&r.mask] = v
	r.prod.tail.Store(tail + 1)
	return true
}

// PushBatch appends the longest prefix of vs that fits and returns its length. Producer only.
func (r *SPSC[T]) PushBatch(vs []T) int {
	tail := r.prod.tail.Load()
	n := min(r.free(tail, len(vs)), len(vs))
	for i := 0; i < n; i++ {
		r.buf[(tail+uint64(i))&r.mask] = vs[i]
	}
	if n > 0 {
		r.prod.tail.Store(tail + uint64(n))
	}
	return n
}

// Reserve returns up to n free slots, contiguous in memory (so possibly fewer than are
// free when the ring wraps), for the producer to fill in place; Commit publishes them.
// Producer only.
func (r *SPSC[T]) Reserve(n int) []T {
	tail := r.prod.tail.Load()
	f := min(r.free(tail, n), n)
	i := tail & r.mask
	f = min(f, len(r.buf)-int(i))
	return r.buf[i : int(i)+f]
}

// Commit publishes the first n slots returned by the last Reserve. Producer only.
func (r *SPSC[T]) Commit(n int) {
	if n <= 0 {
		return
	}
	r.prod.tail.Store(r.prod.tail.Load() + uint64(n))
}

// Pop removes and returns the oldest item; ok is false when the ring is empty. Consumer only.
func (r *SPSC[T]) Pop() (v T, ok bool) {
	head := r.cons.head.Load()
	if r.avail(head, 1) == 0 {
		return v, false
	}
	slot := &r.buf[head&r.mask]
	v = *slot
	if r.clear {
		var zero T
		*slot = zero // drop the ring's reference
	}
	r.cons.head.Store(head + 1)
	return v, true
}

// PopBatch moves the oldest items into dst, as many as fit, and returns how many. Consumer only.
func (r *SPSC[T]) PopBatch(dst []T) int {
	head := r.cons.head.Load()
	n := min(r.avail(head, len(dst)), len(dst))
	var zero T
	for i := 0; i < n; i++ {
		slot := &r.buf[(head+uint64(i))&r.mask]
		dst[i] = *slot
		if r.clear {
			*slot = zero
		}
	}
	if n > 0 {
		r.cons.head.Store(head + uint64(n))
	}
	return n
}

// Peek returns up to n of the oldest items in place, contiguous in memory (so possibly
// fewer than are there when the ring wraps), without removing them; Release removes them.
// Consumer only.
func (r *SPSC[T]) Peek(n int) []T {
	head := r.cons.head.Load()
	a := min(r.avail(head, n), n)
	i := head & r.mask
	a = min(a, len(r.buf)-int(i))
	return r.buf[i : int(i)+a]
}

// Release removes the first n items returned by the last Peek. Consumer only.
func (r *SPSC[T]) Release(n int) {
	if n <= 0 {
		return
	}
	head := r.cons.head.Load()
	if r.clear {
		var zero T
		for i := 0; i < n; i++ {
			r.buf[(head+uint64(i))&r.mask] = zero
		}
	}
	r.cons.head.Store(head + uint64(n))
}
