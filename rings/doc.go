// Package rings provides the bounded lock-free rings that every ndisbench figure passes
// through: SPSC, a single-producer single-consumer ring (a NIC queue's RX descriptor ring,
// a batch of indications), and MPSC, a many-producer single-consumer ring (each vCPU's
// DPC queue). If they are slow, every latency ndisbench reports is their latency; if they
// are wrong, every count is wrong, so both are checked for linearizability against a
// bounded FIFO queue, stress-tested under the race detector, and fuzzed against a slice.
//
// Both are generic over the element type, have a power-of-two capacity fixed at
// construction (ErrCapacity otherwise), offer single and batch operations (SPSC also a
// zero-copy Reserve/Commit and Peek/Release form), and allocate nothing after
// construction. A ring whose element type holds pointers clears each slot as its item
// leaves, so the ring never keeps a consumed item reachable.
//
// # Indices
//
// Positions are free-running uint64 counters: item k of the ring's life lives in slot
// k&(cap-1). Every comparison is a difference of two positions, which unsigned arithmetic
// keeps right across the 2^64 wrap (the tests start the counters just below it); at
// 10^10 items a second the wrap comes after 58 years.
//
// # Memory ordering
//
// Each hand-off is one publishing store, a release, and the other side's atomic load of
// it, an acquire; slots are read and written with plain loads and stores, each ordered by
// one of these edges:
//
//   - Producer to consumer. The producer writes the slot, then publishes it with a
//     release store (SPSC: of tail, past the slot; MPSC: of the slot's sequence number).
//     The consumer reads the slot only after an atomic load that observed that store,
//     so the write happens before the read.
//   - Consumer to producer. The consumer reads (and, for pointer types, clears) the
//     slot, then releases it with a release store of head. A producer writes the slot
//     again only after an atomic load of head (directly, or through a value of head
//     another producer loaded and passed on) showing the slot released, so the read
//     happens before the overwrite.
//
// The release store is storeRelease. On amd64 it is a plain MOV: the XCHG of sync/atomic's
// Store waits, on every item, for the cache line the other side keeps pulling away. Under
// the race detector, which then checks every edge, and on other architectures it is
// sync/atomic's Store. Nothing in the rings needs more than release and acquire;
// storerel.go says why, and what the plain store gives up.
//
// Each side keeps a private cache of the other side's index (SPSC) or a shared cache of
// head (MPSC producers), refreshed only when the ring looks full or empty, so that in the
// common case an operation touches no cache line the other side writes except the slots.
//
// # What the rings do not do
//
// They never block waiting for room or for items, never grow, and never call into the
// scheduler on behalf of the caller: a Push into a full ring and a Pop from an empty one
// return false at once, and the caller chooses how to wait (spin, yield, park), as
// ndisbench's vCPUs do. A consumer may also hand PopBatchWait an IdlePolicy (Spin, or its
// own) that waits between looks at an empty ring, so that items accumulate into batches;
// the policy decides when to give up. The one wait of the rings' own is inside MPSC's
// consumer: a Pop that finds the head
// position claimed by a producer that has not yet written it waits for that producer's
// next store rather than call a non-empty ring empty (see MPSC.Pop). They are not
// multi-consumer: two goroutines popping at once corrupt them, as do two producing into
// an SPSC ring; nothing checks for that at run time, the race detector does in tests.
package rings

import (
	"errors"
	"fmt"
	"reflect"
)

// ErrCapacity is the errors.Is target of the error the constructors return for a
// capacity that is not a power of two between 2 and MaxCapacity.
var ErrCapacity = errors.New("capacity must be a power of two between 2 and 2^30")

// MaxCapacity is the largest capacity a ring may have.
const MaxCapacity = 1 << 30

// cacheLinePad is the distance kept between fields written by different goroutines: two
// 64-byte lines, because the adjacent-line prefetcher of x86 cores fetches lines in
// aligned pairs, and 128 is the line size of some arm64 cores.
const cacheLinePad = 128

// readOnlyFields has the size and layout of the fields both rings begin with (a slice of
// slots, the index mask, the clear flag), whatever the element type, so that their pad
// can be computed from unsafe.Sizeof, which is not constant for a generic type.
type readOnlyFields struct {
	slots []byte
	mask  uint64
	clear bool
}

// checkCapacity returns nil for a usable capacity and an error matching ErrCapacity,
// naming the constructor, otherwise.
func checkCapacity(ctor string, n int) error {
	if n < 2 || n > MaxCapacity || n&(n-1) != 0 {
		return fmt.Errorf("rings: %s: capacity %d: %w", ctor, n, ErrCapacity)
	}
	return nil
}

// hasPointers reports whether values of type T hold pointers, so that a ring must clear a
// slot when its item leaves (for the garbage collector). Rings of plain values skip the
// clearing: a consumer writing into a slot that a producer writes next costs a cache-line
// transfer the ring does not otherwise need.
func hasPointers[T any]() bool { return typeHasPointers(reflect.TypeFor[T]()) }

func typeHasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && typeHasPointers(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if typeHasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true // pointers, strings, slices, maps, chans, funcs, interfaces, unsafe.Pointer
}
