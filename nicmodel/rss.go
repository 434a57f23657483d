package nicmodel

// Receive side scaling (DESIGN.md R10): the Toeplitz hash a NIC computes over a packet's
// addresses and ports with a secret key, and the indirection table that maps the hash's
// low-order bits to a receive queue (and so to the CPU that queue interrupts). The
// algorithm and the byte order of the hash input follow Microsoft's "RSS hashing
// functions" page; the tests check the published verification vectors.
//
// Concurrency: a Toeplitz is read-only after NewToeplitz, so any number of goroutines
// may hash with it at once. An Indirection is configured before traffic: Lookup may run
// on many goroutines at once, but not at the same time as Set.

import (
	"fmt"
	"math/bits"
)

// DefaultRSSKey returns the 40-byte key of the Microsoft RSS specification's
// verification suite (the key the published hash vectors use), 6d5a56da...01fa. Real
// NICs ship with this key as their default more often than not. The slice is the
// caller's.
func DefaultRSSKey() []byte { return append([]byte(nil), defaultRSSKey[:]...) }

var defaultRSSKey = [40]byte{
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
}

// Key lengths NewToeplitz accepts. The specification's keys are 40 bytes; some NICs use
// 52 (Intel E810); anything from 4 to 128 bytes works here.
const (
	MinRSSKeyLen = 4
	MaxRSSKeyLen = 128
)

// Toeplitz computes the RSS Toeplitz hash for one key. It holds one 256-entry table per
// input byte position, so hashing costs one load and one XOR per input byte and never
// allocates. It is safe for concurrent use.
type Toeplitz struct {
	key  []byte
	rows [][256]uint32 // rows[i][v]: the hash contribution of byte value v at position i
}

// NewToeplitz precomputes the tables for key, which must be MinRSSKeyLen..MaxRSSKeyLen
// bytes long. The hash input may then be up to len(key)-4 bytes: 36 bytes (an IPv6
// 4-tuple) for a 40-byte key. The key is copied.
func NewToeplitz(key []byte) (*Toeplitz, error) {
	if len(key) < MinRSSKeyLen || len(key) > MaxRSSKeyLen {
		return nil, fmt.Errorf("nicmodel: rss: rss_key must be %d..%d bytes, got %d bytes: %w",
			MinRSSKeyLen, MaxRSSKeyLen, len(key), ErrConfig)
	}
	t := &Toeplitz{key: append([]byte(nil), key...), rows: make([][256]uint32, len(key)-4)}
	for i := range t.rows {
		// The 40 key bits from key[i] on: the 32-bit window for input bit b (0 is the
		// byte's most significant bit) starts b bits in.
		k := uint64(key[i])<<32 | uint64(key[i+1])<<24 | uint64(key[i+2])<<16 |
			uint64(key[i+3])<<8 | uint64(key[i+4])
		var win [8]uint32
		for b := range win {
			win[b] = uint32(k >> (8 - b))
		}
		row := &t.rows[i]
		for v := 1; v < 256; v++ {
			low := bits.TrailingZeros8(uint8(v)) // bit 0 is the least significant
			row[v] = row[v&(v-1)] ^ win[7-low]
		}
	}
	return t, nil
}

// Key returns a copy of the key.
func (t *Toeplitz) Key() []byte { return append([]byte(nil), t.key...) }

// MaxInput returns the longest input Hash accepts: len(key)-4 bytes.
func (t *Toeplitz) MaxInput() int { return len(t.rows) }

// Hash returns the Toeplitz hash of input: for every input bit, from the first byte's
// most significant bit on, it XORs in the 32 key bits that start at that bit's position
// when the bit is set. It panics if input is longer than MaxInput. It does not allocate.
func (t *Toeplitz) Hash(input []byte) uint32 {
	if len(input) > len(t.rows) {
		panicInput(len(input), len(t.rows))
	}
	rows := t.rows[:len(input)]
	var h uint32
	for i, v := range input {
		h ^= rows[i][v]
	}
	return h
}

//go:noinline
func panicInput(n, max int) {
	panic(fmt.Sprintf("nicmodel: Toeplitz.Hash: %d-byte input, the key allows %d", n, max))
}

// FlowTuple is an IPv4 TCP or UDP flow's 4-tuple, as RSS hashes it.
type FlowTuple struct {
	SrcIP, DstIP     [4]byte
	SrcPort, DstPort uint16
}

// FlowTupleLen is the length of an IPv4 4-tuple's hash input; the first 8 bytes of it
// (the addresses) are the input of the addresses-only hash type (NDIS_HASH_IPV4).
const FlowTupleLen = 12

// HashInput appends f's hash input to buf and returns the extended slice, in the
// specification's order (NDIS_HASH_TCP_IPV4): source address, destination address,
// source port, destination port, each in network byte order.
func (f FlowTuple) HashInput(buf []byte) []byte {
	buf = append(buf, f.SrcIP[:]...)
	buf = append(buf, f.DstIP[:]...)
	return append(buf, byte(f.SrcPort>>8), byte(f.SrcPort), byte(f.DstPort>>8), byte(f.DstPort))
}

// HashFlow returns the 4-tuple hash of f (NDIS_HASH_TCP_IPV4). The key must be at least
// 16 bytes long. It does not allocate.
func (t *Toeplitz) HashFlow(f FlowTuple) uint32 {
	in := f.Bytes()
	return t.HashTuple(&in)
}

// HashTuple returns the 4-tuple hash (NDIS_HASH_TCP_IPV4) of a tuple already in its hash
// input form (FlowTuple.Bytes; core.NBL.Tuple): what a driver that does RSS itself
// computes for each packet. The key must be at least 16 bytes long. It does not
// allocate.
func (t *Toeplitz) HashTuple(in *[FlowTupleLen]byte) uint32 {
	if len(t.rows) < FlowTupleLen {
		panicInput(FlowTupleLen, len(t.rows))
	}
	r := (*[FlowTupleLen][256]uint32)(t.rows) // unrolled: one table load per byte, no bounds checks
	return r[0][in[0]] ^ r[1][in[1]] ^ r[2][in[2]] ^ r[3][in[3]] ^
		r[4][in[4]] ^ r[5][in[5]] ^ r[6][in[6]] ^ r[7][in[7]] ^
		r[8][in[8]] ^ r[9][in[9]] ^ r[10][in[10]] ^ r[11][in[11]]
}

// Bytes returns f's hash input (HashInput) as an array: what a packet of the flow carries
// in core.NBL.Tuple.
func (f FlowTuple) Bytes() (b [FlowTupleLen]byte) {
	copy(b[0:4], f.SrcIP[:])
	copy(b[4:8], f.DstIP[:])
	b[8], b[9], b[10], b[11] = byte(f.SrcPort>>8), byte(f.SrcPort), byte(f.DstPort>>8), byte(f.DstPort)
	return b
}

// FlowTuple6 is an IPv6 TCP or UDP flow's 4-tuple, as RSS hashes it (without extension
// headers).
type FlowTuple6 struct {
	SrcIP, DstIP     [16]byte
	SrcPort, DstPort uint16
}

// FlowTuple6Len is the length of an IPv6 4-tuple's hash input; the first 32 bytes of it
// (the addresses) are the input of the addresses-only hash type (NDIS_HASH_IPV6).
const FlowTuple6Len = 36

// HashInput appends f's hash input to buf and returns the extended slice, in the
// specification's order (NDIS_HASH_TCP_IPV6): source address, destination address,
// source port, destination port, each in network byte order.
func (f FlowTuple6) HashInput(buf []byte) []byte {
	buf = append(buf, f.SrcIP[:]...)
	buf = append(buf, f.DstIP[:]...)
	return append(buf, byte(f.SrcPort>>8), byte(f.SrcPort), byte(f.DstPort>>8), byte(f.DstPort))
}

// HashFlow6 returns the 4-tuple hash of f (NDIS_HASH_TCP_IPV6). The key must be at least
// 40 bytes long. It does not allocate.
func (t *Toeplitz) HashFlow6(f FlowTuple6) uint32 {
	var in [FlowTuple6Len]byte
	copy(in[0:16], f.SrcIP[:])
	copy(in[16:32], f.DstIP[:])
	in[32], in[33], in[34], in[35] = byte(f.SrcPort>>8), byte(f.SrcPort), byte(f.DstPort>>8), byte(f.DstPort)
	return t.Hash(in[:])
}

// DefaultIndirectionEntries is the indirection table size NewIndirection uses for 0: 128
// entries, NDIS's largest table (NDIS_RSS_INDIRECTION_TABLE_MAX_SIZE_REVISION_1 is 128
// processor entries).
const DefaultIndirectionEntries = 128

// MaxIndirectionEntries is the largest indirection table NewIndirection builds.
const MaxIndirectionEntries = 1 << 16

// Indirection is an RSS indirection table: it maps the low-order bits of a packet's hash
// to a receive queue, and so to the CPU whose interrupt serves that queue. The protocol
// driver fills it (round-robin by default) and may rebalance it by rewriting entries.
type Indirection struct {
	queue  []uint16
	mask   uint32
	queues int
}

// NewIndirection builds a table of entries entries (a power of two up to
// MaxIndirectionEntries; 0 means DefaultIndirectionEntries) spreading queues queues
// (1..entries) round-robin: entry i holds queue i % queues.
func NewIndirection(entries, queues int) (*Indirection, error) {
	if entries == 0 {
		entries = DefaultIndirectionEntries
	}
	if entries < 1 || entries > MaxIndirectionEntries || entries&(entries-1) != 0 {
		return nil, fmt.Errorf("nicmodel: rss: indirection_entries must be a power of two 1..%d, got %d: %w",
			MaxIndirectionEntries, entries, ErrConfig)
	}
	if queues < 1 || queues > entries {
		return nil, fmt.Errorf("nicmodel: rss: queues must be 1..%d (the indirection entries), got %d: %w",
			entries, queues, ErrConfig)
	}
	x := &Indirection{queue: make([]uint16, entries), mask: uint32(entries - 1), queues: queues}
	for i := range x.queue {
		x.queue[i] = uint16(i % queues)
	}
	return x, nil
}

// Lookup returns the queue for hash: the entry its low-order bits select (hash masked
// with Entries()-1), as the specification says. It does not allocate.
func (x *Indirection) Lookup(hash uint32) int { return int(x.queue[hash&x.mask]) }

// Set points entry at queue (0..Queues()-1), as a protocol driver rebalancing RSS does.
// It must not run at the same time as Lookup.
func (x *Indirection) Set(entry, queue int) error {
	if entry < 0 || entry >= len(x.queue) {
		return fmt.Errorf("nicmodel: rss: indirection entry %d out of range 0..%d: %w", entry, len(x.queue)-1, ErrConfig)
	}
	if queue < 0 || queue >= x.queues {
		return fmt.Errorf("nicmodel: rss: queue %d out of range 0..%d: %w", queue, x.queues-1, ErrConfig)
	}
	x.queue[entry] = uint16(queue)
	return nil
}

// Entries returns the number of entries in the table.
func (x *Indirection) Entries() int { return len(x.queue) }

// Queues returns the number of queues the table spreads over.
func (x *Indirection) Queues() int { return x.queues }
