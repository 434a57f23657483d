//go:build amd64 && !race

package rings

import "sync/atomic"

// releaseStoreIsPlain reports that storeRelease is a plain MOV (this build: amd64
// without the race detector), not an atomic store.
const releaseStoreIsPlain = true

// storeRelease stores v into x with release ordering: every load and store the calling
// goroutine made before it is visible to a goroutine that loads v from x atomically. It
// is a plain MOVQ (storerel_amd64.s); see the invariants in storerel.go for why that
// suffices here and what it gives up.
//
//go:noescape
func storeRelease(x *atomic.Uint64, v uint64)
