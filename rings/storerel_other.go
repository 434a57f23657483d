//go:build !amd64 || race

package rings

import "sync/atomic"

// releaseStoreIsPlain reports that storeRelease is an atomic store (this build: another
// architecture, or the race detector), not a plain MOV.
const releaseStoreIsPlain = false

// storeRelease stores v into x with (at least) release ordering: every load and store the
// calling goroutine made before it is visible to a goroutine that loads v from x
// atomically. Here it is x.Store: the race detector must see the synchronisation, and on
// arm64 the atomic store already is a release (STLR). See storerel.go.
func storeRelease(x *atomic.Uint64, v uint64) { x.Store(v) }
