// Package rings provides the bounded lock-free rings that every ndisbench figure passes
// through: SPSC, a single-producer single-consumer ring (a NIC queue's RX descriptor ring,
// a batch of indications), and MPSC, a many-producer single-consumer ring (each vCPU's
// DPC queue).
//
// Both are generic over the element type, have a power-of-two capacity fixed at
// construction, offer single and batch operations, and allocate nothing after
// construction.
//
// Memory ordering: a producer writes slots with plain stores and then publishes them with
// an atomic store of its index (or, in MPSC, of the slot's sequence number); a consumer
// atomically loads that index before reading the slots, and publishes their release the
// same way. Go's sync/atomic operations are sequentially consistent, so each atomic store
// is a release and each load an acquire, and the race detector sees the happens-before.
//
// The rings deliberately do not block, wait, grow, or call into the scheduler: a full
// Push and an empty Pop return at once, and the caller chooses how to wait (spin, yield,
// park), as ndisbench's vCPUs do.
package rings

import (
	"errors"
	"reflect"
)

// ErrCapacity is returned by the constructors for a capacity that is not a power of two
// between 2 and MaxCapacity.
var ErrCapacity = errors.New("rings: capacity must be a power of two between 2 and 1<<30")

// MaxCapacity is the largest capacity a ring may have.
const MaxCapacity = 1 << 30

// cacheLinePad keeps independently written fields 128 bytes apart: two 64-byte lines, so
// that the adjacent-line prefetcher does not pull a neighbour's line either.
const cacheLinePad = 128

func checkCapacity(n int) error {
	if n < 2 || n > MaxCapacity || n&(n-1) != 0 {
		return ErrCapacity
	}
	return nil
}

// hasPointers reports whether values of type T hold pointers, so that a ring must clear a
// slot when it gives up its item (for the garbage collector). Rings of plain values skip
// the clearing: a consumer writing into the slot the producer writes next costs a cache
// line transfer per item.
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
	return true
}
