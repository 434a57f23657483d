package rings

// Invariants (storeRelease, the rings' publishing store):
//   - storeRelease(x, v) is the store that hands slots to the other side: SPSC's tail
//     (producer) and head (consumer), MPSC's slot seq (the producer that claimed the
//     position) and head (consumer). Every other atomic access stays a sync/atomic call:
//     the loads (acquires, and plain MOVs on amd64 already), MPSC's CAS of tail and
//     store of cachedHead, and the stores made during construction.
//   - The rings need release ordering of it, no more: the writer's earlier slot writes
//     (producer) or slot reads and clears (consumer) happen before anything done by a
//     goroutine whose atomic load sees v. They never rely on the store being ordered
//     before a later load of the same goroutine (what only a sequentially consistent
//     store gives): where a side stores its index and then loads the other's, a stale
//     value of the other's index shows less room or fewer items than there are, never
//     more, and the side looks again later.
//   - On amd64 without the race detector it is one MOVQ in assembly. x86-TSO never lets a
//     store pass an earlier load or store of the same thread, so in hardware a plain
//     store is a release (Go's memmove and memclr, which copy and clear batches, end
//     their non-temporal paths with SFENCE). The compiler cannot see into an assembly
//     function, so it must assume the call reads and writes any memory, and moves none
//     of the caller's loads and stores across it. sync/atomic's Store is an XCHG, whose
//     implied LOCK stalls the thread until the line is its own again, a cache-line round
//     trip whenever the other side has just loaded it; the MOV waits in the store buffer
//     instead and the thread goes on.
//   - What the MOV gives up is sequential consistency: it may become visible after a
//     later load of the same goroutine, and so a moment after the method returns. It is
//     visible before any later store of that goroutine, so a goroutine that learns
//     through memory that the method returned (a channel, a flag, the locked clock of
//     the linearizability test) sees its effect: the operation takes effect when the
//     store is visible, inside every interval an observer can measure.
//   - Under the race detector, and on every other architecture, it is
//     atomic.Uint64.Store: the race detector sees no assembly, so it must see the
//     synchronisation as an atomic; and elsewhere a plain store is not a release (arm64's
//     atomic store is STLR, a release already). releaseStoreIsPlain says which build is
//     in force.
//   - The assembly writes the 8 bytes at x. That is x's value because atomic.Uint64 is a
//     struct whose one field of nonzero size is its uint64, at offset 0 (the others,
//     noCopy and align64, are empty); TestStoreReleaseLayout checks it with reflect. x
//     is 8-aligned (align64 makes it so on every platform), so the MOVQ is single-copy
//     atomic: a concurrent load sees the old value or the new, never a mix.
