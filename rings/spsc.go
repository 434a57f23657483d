package rings

import (
	"sync/atomic"
	"unsafe"
)

// Invariants (SPSC):
//   - head and tail are free-running uint64 positions; position p lives in buf[p&mask].
//   - 0 <= tail-head <= cap at every instant, in unsigned arithmetic, so it holds across
//     the 2^64 wrap as well. The items are the positions [head, tail).
//   - Only the producer writes tail, and the slots of positions [tail, head+cap); only the
//     consumer writes head, and reads the slots of positions [head, tail).
//   - The producer writes slots first and then publishes them with a release store of
//     tail (storeRelease); the consumer reads (and, for pointer types, clears) slots
//     first and then releases them with a release store of head. Each side loads the
//     other's index atomically (an acquire) before touching the slots it covers.
//   - cachedHead is the producer's private copy of a past value of head, so
//     cachedHead <= head; cachedTail is the consumer's private copy of a past value of
//     tail, so cachedTail <= tail. Each side trusts its cache while the cache says there
//     is room (items) enough, and reloads the other's index only when it does not: a
//     cross-core load only when the ring looks full (producer) or empty (consumer).
//   - reserved is the number of slots from tail on that the last Reserve handed out and
//     Commit may publish; peeked the number of items from head on that the last Peek
//     handed out and Release may remove. Any other operation of the same side zeroes it.
//   - Each side's fields share one 128-byte-aligned block of their own (see the layout
//     test), apart from the other side's and from the read-only fields.

// SPSC is a bounded single-producer single-consumer ring. One goroutine at a time may
// call the producer methods (Push, PushBatch, Reserve, Commit) and one goroutine at a
// time the consumer methods (Pop, PopBatch, PopBatchWait, Peek, Release); the two may
// differ and run concurrently. Len and Cap may be called by any goroutine. Handing a side
// to another goroutine needs a happens-before edge (a channel send, a mutex) like any
// plain data.
//
// A side's publication (its index store) is a release, not a sequentially consistent
// store (storerel.go): everything before it is visible to whoever sees it, but a later
// load of the same goroutine may be answered before it is visible. A caller whose
// correctness needs its push to be visible before its next load of some other variable
// (a Dekker handshake: push, then look at a flag the other side stores before it looks
// at the ring) puts a sequentially consistent atomic operation between the two.
type SPSC[T any] struct {
	// Read-only after construction; read by both sides.
	buf   []T
	mask  uint64
	clear bool // T holds pointers: clear a slot when its item leaves
	_     [cacheLinePad - unsafe.Sizeof(readOnlyFields{})%cacheLinePad]byte

	prod spscProducer
	_    [cacheLinePad - unsafe.Sizeof(spscProducer{})%cacheLinePad]byte

	cons spscConsumer
	_    [cacheLinePad - unsafe.Sizeof(spscConsumer{})%cacheLinePad]byte
}

// spscProducer is the producer's block: tail, which it alone writes, and its private
// state.
type spscProducer struct {
	tail       atomic.Uint64 // written by the producer (store publishes slots); loaded by the consumer and Len
	cachedHead uint64        // producer only: a past value of head
	reserved   int           // producer only: slots the last Reserve handed out, not yet committed
}

// spscConsumer is the consumer's block: head, which it alone writes, and its private
// state.
type spscConsumer struct {
	head       atomic.Uint64 // written by the consumer (store releases slots); loaded by the producer and Len
	cachedTail uint64        // consumer only: a past value of tail
	peeked     int           // consumer only: items the last Peek handed out, not yet released
}

// NewSPSC returns an empty ring for up to capacity items. The capacity must be a power of
// two between 2 and MaxCapacity; otherwise the error matches ErrCapacity.
func NewSPSC[T any](capacity int) (*SPSC[T], error) {
	return newSPSCAt[T](capacity, 0)
}

// newSPSCAt is NewSPSC with both positions starting at start, so that tests can cross
// the 2^64 wrap.
func newSPSCAt[T any](capacity int, start uint64) (*SPSC[T], error) {
	if err := checkCapacity("NewSPSC", capacity); err != nil {
		return nil, err
	}
	r := &SPSC[T]{buf: make([]T, capacity), mask: uint64(capacity - 1), clear: hasPointers[T]()}
	r.prod.tail.Store(start)
	r.prod.cachedHead = start
	r.cons.head.Store(start)
	r.cons.cachedTail = start
	return r, nil
}

// Cap returns the ring's capacity. Any goroutine.
func (r *SPSC[T]) Cap() int { return len(r.buf) }

// Len returns the number of items in the ring. Any goroutine; it is a snapshot, exact
// when neither side is moving, and always between 0 and Cap.
func (r *SPSC[T]) Len() int {
	head := r.cons.head.Load() // first: tail only grows, so tail >= head below
	n := r.prod.tail.Load() - head
	if n > uint64(len(r.buf)) {
		n = uint64(len(r.buf)) // both moved between the loads
	}
	return int(n)
}

// room returns how many slots from tail on the producer may fill, at least want if the
// ring has that many free: it trusts cachedHead unless it shows fewer. Producer only.
func (r *SPSC[T]) room(tail uint64, want int) int {
	c := uint64(len(r.buf))
	free := c - (tail - r.prod.cachedHead)
	if free < uint64(want) {
		r.prod.cachedHead = r.cons.head.Load()
		free = c - (tail - r.prod.cachedHead)
	}
	return int(free)
}

// items returns how many items from head on the consumer may take, at least want if the
// ring holds that many: it trusts cachedTail unless it shows fewer. Consumer only.
func (r *SPSC[T]) items(head uint64, want int) int {
	n := r.cons.cachedTail - head
	if n < uint64(want) {
		r.cons.cachedTail = r.prod.tail.Load()
		n = r.cons.cachedTail - head
	}
	return int(n)
}

// Push appends v and reports whether there was room; false means the ring was full.
// It cancels an uncommitted Reserve. Producer only.
func (r *SPSC[T]) Push(v T) bool {
	tail := r.prod.tail.Load()
	if tail-r.prod.cachedHead >= uint64(len(r.buf)) { // looks full: look at head
		r.prod.cachedHead = r.cons.head.Load()
		if tail-r.prod.cachedHead >= uint64(len(r.buf)) {
			return false
		}
	}
	r.buf[tail&r.mask] = v
	r.prod.reserved = 0
	storeRelease(&r.prod.tail, tail+1) // publishes the slot
	return true
}

// PushBatch appends a prefix of vs, publishing it at once, and returns its length: as
// much of vs as there is room for, where the room is what the producer last saw of head,
// looking again only when its cached value shows too little. So it returns 0 only when
// the ring is full (or vs empty), and run alone it pushes all that fits; while the
// consumer is popping, room it frees after that look waits for the next call. It cancels
// an uncommitted Reserve. Producer only.
func (r *SPSC[T]) PushBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	tail := r.prod.tail.Load()
	n := min(r.room(tail, len(vs)), len(vs))
	if n == 0 {
		return 0
	}
	// Copy in at most two runs: up to the end of buf, then from its start.
	i := int(tail & r.mask)
	k := copy(r.buf[i:], vs[:n])
	copy(r.buf, vs[k:n])
	r.prod.reserved = 0
	storeRelease(&r.prod.tail, tail+uint64(n)) // publishes the slots
	return n
}

// Reserve returns up to n free slots for the producer to fill in place: as many as are
// free, but no more than run contiguously to the end of the ring's storage, so a
// reservation near the wrap may be shorter than the free space (reserve again after
// committing for the rest). It returns an empty slice when the ring is full or n <= 0.
// The slots hold whatever they last held: write every one that will be committed.
// Commit publishes them. A new Reserve replaces the previous one; Push and PushBatch
// cancel it. Producer only.
func (r *SPSC[T]) Reserve(n int) []T {
	tail := r.prod.tail.Load()
	i := int(tail & r.mask)
	if n <= 0 {
		r.prod.reserved = 0
		return r.buf[i:i:i]
	}
	n = min(n, len(r.buf)-i) // contiguous
	n = min(n, r.room(tail, n))
	r.prod.reserved = n
	return r.buf[i : i+n : i+n]
}

// Commit publishes the first n slots of the last Reserve, in order, and ends the
// reservation (slots reserved but not committed go back to being free). It panics if n is
// negative or more than the last Reserve returned. Producer only.
func (r *SPSC[T]) Commit(n int) {
	if n < 0 || n > r.prod.reserved {
		panic("rings: SPSC.Commit of more slots than the last Reserve returned")
	}
	r.prod.reserved = 0
	if n > 0 {
		storeRelease(&r.prod.tail, r.prod.tail.Load()+uint64(n)) // publishes the slots
	}
}

// Pop removes and returns the oldest item; ok is false when the ring is empty. It cancels
// an unreleased Peek. Consumer only.
func (r *SPSC[T]) Pop() (v T, ok bool) {
	head := r.cons.head.Load()
	if r.cons.cachedTail == head { // looks empty: look at tail
		r.cons.cachedTail = r.prod.tail.Load()
		if r.cons.cachedTail == head {
			return v, false
		}
	}
	slot := &r.buf[head&r.mask]
	v = *slot
	if r.clear {
		var zero T
		*slot = zero // drop the ring's reference
	}
	r.cons.peeked = 0
	storeRelease(&r.cons.head, head+1) // releases the slot
	return v, true
}

// PopBatch moves the oldest items into dst and returns how many: as many as dst has room
// for and the consumer last saw of tail, looking again only when its cached value shows
// too few. So it returns 0 only when the ring is empty (or dst empty), and run alone it
// takes all it can; items published after that look wait for the next call. It releases
// their slots with one store and cancels an unreleased Peek. Consumer only.
func (r *SPSC[T]) PopBatch(dst []T) int {
	if len(dst) == 0 {
		return 0
	}
	head := r.cons.head.Load()
	n := min(r.items(head, len(dst)), len(dst))
	if n == 0 {
		return 0
	}
	// Copy out in at most two runs: up to the end of buf, then from its start.
	i := int(head & r.mask)
	k := copy(dst[:n], r.buf[i:])
	copy(dst[k:n], r.buf)
	if r.clear {
		clear(r.buf[i:min(i+n, len(r.buf))])
		clear(r.buf[:n-k])
	}
	r.cons.peeked = 0
	storeRelease(&r.cons.head, head+uint64(n)) // releases the slots
	return n
}

// Peek returns up to n of the oldest items in place, without removing them: as many as
// the ring holds, but no more than run contiguously to the end of the ring's storage, so
// near the wrap it may return fewer than the ring holds (peek again after releasing for
// the rest). It returns an empty slice when the ring is empty or n <= 0. The slice stays
// valid until Release; Release removes the items. A new Peek replaces the previous one;
// Pop and PopBatch cancel it. Consumer only.
func (r *SPSC[T]) Peek(n int) []T {
	head := r.cons.head.Load()
	i := int(head & r.mask)
	if n <= 0 {
		r.cons.peeked = 0
		return r.buf[i:i:i]
	}
	n = min(n, len(r.buf)-i) // contiguous
	n = min(n, r.items(head, n))
	r.cons.peeked = n
	return r.buf[i : i+n : i+n]
}

// Release removes the first n items of the last Peek and ends the peek; the items after
// them stay in the ring. It panics if n is negative or more than the last Peek returned.
// Consumer only.
func (r *SPSC[T]) Release(n int) {
	if n < 0 || n > r.cons.peeked {
		panic("rings: SPSC.Release of more items than the last Peek returned")
	}
	r.cons.peeked = 0
	if n == 0 {
		return
	}
	head := r.cons.head.Load()
	if r.clear {
		i := int(head & r.mask)
		clear(r.buf[i : i+n]) // Peek's run never wraps
	}
	storeRelease(&r.cons.head, head+uint64(n)) // releases the slots
}
