package nicmodel

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// refToeplitz is the specification's pseudocode, bit by bit: for every set input bit,
// XOR in the 32 key bits starting at that bit's position.
func refToeplitz(key, input []byte) uint32 {
	keyBit := func(i int) uint32 { return uint32(key[i/8]>>(7-i%8)) & 1 }
	var h uint32
	for i := 0; i < len(input)*8; i++ {
		if input[i/8]>>(7-i%8)&1 == 0 {
			continue
		}
		var w uint32
		for j := range 32 {
			w = w<<1 | keyBit(i+j)
		}
		h ^= w
	}
	return h
}

func mustToeplitz(tb testing.TB, key []byte) *Toeplitz {
	tb.Helper()
	t, err := NewToeplitz(key)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// The IPv4 rows of the verification table in Microsoft's "Verifying the RSS hash
// calculation" (also the Intel 82599 datasheet's RSS verification suite), key
// DefaultRSSKey.
var rssIPv4Vectors = []struct {
	dst, src        string
	dport, sport    uint16
	addrs, withPort uint32
}{
	{"161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178},
	{"65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea},
	{"12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a},
	{"209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f},
	{"202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2},
}

// The IPv6 rows of the same table.
var rssIPv6Vectors = []struct {
	dst, src        string
	dport, sport    uint16
	addrs, withPort uint32
}{
	{"3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5, 0x40207d3d},
	{"ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461c, 0xdde51bbf},
	{"fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251, 0x4b61e985, 0x02d1feef},
}

func TestToeplitzVerificationIPv4(t *testing.T) {
	tz := mustToeplitz(t, DefaultRSSKey())
	for _, v := range rssIPv4Vectors {
		f := FlowTuple{
			SrcIP: netip.MustParseAddr(v.src).As4(), DstIP: netip.MustParseAddr(v.dst).As4(),
			SrcPort: v.sport, DstPort: v.dport,
		}
		in := f.HashInput(nil)
		if got := tz.HashFlow(f); got != v.withPort {
			t.Errorf("%s:%d -> %s:%d: HashFlow = %#08x, want %#08x", v.src, v.sport, v.dst, v.dport, got, v.withPort)
		}
		if got := tz.Hash(in); got != v.withPort {
			t.Errorf("%s:%d -> %s:%d: Hash(input) = %#08x, want %#08x", v.src, v.sport, v.dst, v.dport, got, v.withPort)
		}
		if got := tz.Hash(in[:8]); got != v.addrs {
			t.Errorf("%s -> %s: addresses-only hash = %#08x, want %#08x", v.src, v.dst, got, v.addrs)
		}
		if got := refToeplitz(DefaultRSSKey(), in); got != v.withPort {
			t.Errorf("%s:%d -> %s:%d: reference = %#08x, want %#08x (the test's reference is wrong)",
				v.src, v.sport, v.dst, v.dport, got, v.withPort)
		}
	}
}

func TestToeplitzVerificationIPv6(t *testing.T) {
	tz := mustToeplitz(t, DefaultRSSKey())
	for _, v := range rssIPv6Vectors {
		f := FlowTuple6{
			SrcIP: netip.MustParseAddr(v.src).As16(), DstIP: netip.MustParseAddr(v.dst).As16(),
			SrcPort: v.sport, DstPort: v.dport,
		}
		in := f.HashInput(nil)
		if got := tz.HashFlow6(f); got != v.withPort {
			t.Errorf("%s.%d -> %s.%d: HashFlow6 = %#08x, want %#08x", v.src, v.sport, v.dst, v.dport, got, v.withPort)
		}
		if got := tz.Hash(in[:32]); got != v.addrs {
			t.Errorf("%s -> %s: addresses-only hash = %#08x, want %#08x", v.src, v.dst, got, v.addrs)
		}
	}
}

func TestFlowTupleHashInputLayout(t *testing.T) {
	f := FlowTuple{SrcIP: [4]byte{1, 2, 3, 4}, DstIP: [4]byte{5, 6, 7, 8}, SrcPort: 0x090a, DstPort: 0x0b0c}
	got := f.HashInput([]byte{0xff})
	want := []byte{0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if string(got) != string(want) {
		t.Errorf("HashInput = %v, want %v (appended, network order)", got, want)
	}
	// Bytes is the same input as an array, what a packet carries (core.NBL.Tuple), and
	// HashTuple hashes it as Hash does.
	if b := f.Bytes(); string(b[:]) != string(want[1:]) {
		t.Errorf("Bytes = %v, want %v", b, want[1:])
	}
	tz := mustToeplitz(t, DefaultRSSKey())
	if b := f.Bytes(); tz.HashTuple(&b) != tz.Hash(want[1:]) || tz.HashFlow(f) != tz.Hash(want[1:]) {
		t.Errorf("HashTuple %#08x, HashFlow %#08x, Hash %#08x: want one hash", tz.HashTuple(&b), tz.HashFlow(f), tz.Hash(want[1:]))
	}
	f6 := FlowTuple6{SrcPort: 0x0102, DstPort: 0x0304}
	f6.SrcIP[0], f6.DstIP[15] = 0xaa, 0xbb
	in6 := f6.HashInput(nil)
	if len(in6) != FlowTuple6Len || in6[0] != 0xaa || in6[31] != 0xbb || in6[32] != 1 || in6[35] != 4 {
		t.Errorf("FlowTuple6.HashInput = %v: want src, dst, ports in network order", in6)
	}
}

func TestNewToeplitzKeyLength(t *testing.T) {
	tests := []struct {
		n      int
		wantOK bool
	}{
		{0, false},                // no key
		{3, false},                // shorter than one 32-bit window
		{4, true},                 // one window: only the empty input
		{40, true},                // the specification's key
		{52, true},                // Intel E810's key
		{MaxRSSKeyLen, true},      // the longest accepted
		{MaxRSSKeyLen + 1, false}, // too long
	}
	for _, tt := range tests {
		tz, err := NewToeplitz(make([]byte, tt.n))
		if tt.wantOK {
			if err != nil {
				t.Errorf("NewToeplitz(%d bytes) = %v, want success", tt.n, err)
			} else if tz.MaxInput() != tt.n-4 {
				t.Errorf("NewToeplitz(%d bytes).MaxInput() = %d, want %d", tt.n, tz.MaxInput(), tt.n-4)
			}
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "rss_key") ||
			!strings.Contains(err.Error(), "got "+strconv.Itoa(tt.n)+" bytes") {
			t.Errorf("NewToeplitz(%d bytes) = %v, want an ErrConfig naming rss_key and the length", tt.n, err)
		}
	}
}

func TestToeplitzKeyIsCopied(t *testing.T) {
	key := append([]byte(nil), DefaultRSSKey()...)
	tz := mustToeplitz(t, key)
	key[0] ^= 0xff
	if got := tz.HashFlow(FlowTuple{SrcIP: [4]byte{66, 9, 149, 187}, DstIP: [4]byte{161, 142, 100, 80}, SrcPort: 2794, DstPort: 1766}); got != 0x51ccc178 {
		t.Errorf("after the caller changed its key, HashFlow = %#08x, want %#08x", got, 0x51ccc178)
	}
	k := tz.Key()
	k[1] ^= 0xff
	if tz.Key()[1] != DefaultRSSKey()[1] {
		t.Error("Key() returned the Toeplitz's own slice")
	}
}

func TestToeplitzHashPanicsOnLongInput(t *testing.T) {
	tz := mustToeplitz(t, make([]byte, 16))
	tz.Hash(make([]byte, 12)) // the longest: fine
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "13-byte input") {
			t.Errorf("Hash(13 bytes) with a 16-byte key: recover() = %v, want a panic naming the length", r)
		}
	}()
	tz.Hash(make([]byte, 13))
}

// TestToeplitzMatchesReference compares the tables with the bit-by-bit definition on
// random keys of every accepted shape and random inputs of every length (FuzzToeplitz
// explores further).
func TestToeplitzMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		key := make([]byte, MinRSSKeyLen+r.IntN(MaxRSSKeyLen-MinRSSKeyLen+1))
		for i := range key {
			key[i] = byte(r.Uint32())
		}
		tz := mustToeplitz(t, key)
		in := make([]byte, r.IntN(tz.MaxInput()+1))
		for i := range in {
			in[i] = byte(r.Uint32())
		}
		if got, want := tz.Hash(in), refToeplitz(key, in); got != want {
			t.Fatalf("key %x input %x: Hash = %#08x, reference %#08x", key, in, got, want)
		}
	}
}

func FuzzToeplitz(f *testing.F) {
	f.Add(DefaultRSSKey(), FlowTuple{SrcIP: [4]byte{66, 9, 149, 187}, DstIP: [4]byte{161, 142, 100, 80}, SrcPort: 2794, DstPort: 1766}.HashInput(nil))
	f.Add(make([]byte, 52), []byte{0xff, 0xff, 0xff})
	f.Add([]byte{1, 2, 3, 4, 5}, []byte{0x80})
	f.Add([]byte{1, 2, 3}, []byte{})
	f.Fuzz(func(t *testing.T, key, input []byte) {
		tz, err := NewToeplitz(key)
		if len(key) < MinRSSKeyLen || len(key) > MaxRSSKeyLen {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("NewToeplitz(%d bytes) = %v, want ErrConfig", len(key), err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(input) > tz.MaxInput() {
			input = input[:tz.MaxInput()]
		}
		if got, want := tz.Hash(input), refToeplitz(key, input); got != want {
			t.Fatalf("key %x input %x: Hash = %#08x, reference %#08x", key, input, got, want)
		}
	})
}

func TestIndirection(t *testing.T) {
	x, err := NewIndirection(0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if x.Entries() != DefaultIndirectionEntries || x.Queues() != 3 {
		t.Fatalf("NewIndirection(0, 3): %d entries, %d queues; want %d, 3", x.Entries(), x.Queues(), DefaultIndirectionEntries)
	}
	for e := range x.Entries() {
		if got := x.Lookup(uint32(e)); got != e%3 {
			t.Errorf("entry %d holds queue %d, want %d (round-robin)", e, got, e%3)
		}
	}
	// Only the low 7 bits select the entry.
	if a, b := x.Lookup(0x51ccc178), x.Lookup(0x78); a != b || a != 0x78%3 {
		t.Errorf("Lookup(0x51ccc178) = %d, Lookup(0x78) = %d; want both %d", a, b, 0x78%3)
	}
	if err := x.Set(0x78, 2); err != nil {
		t.Fatal(err)
	}
	if got := x.Lookup(0xffffff78); got != 2 {
		t.Errorf("after Set(0x78, 2), Lookup(0xffffff78) = %d, want 2", got)
	}
	if got := x.Lookup(0x79); got != 0x79%3 {
		t.Errorf("Set changed a neighbour: Lookup(0x79) = %d, want %d", got, 0x79%3)
	}
}

func TestIndirectionErrors(t *testing.T) {
	tests := []struct {
		entries, queues int
		want            string
	}{
		{100, 4, "indirection_entries"},                       // not a power of two
		{-128, 4, "indirection_entries"},                      // negative
		{MaxIndirectionEntries * 2, 4, "indirection_entries"}, // too big
		{128, 0, "queues"},                                    // no queue
		{8, 9, "queues"},                                      // more queues than entries
	}
	for _, tt := range tests {
		_, err := NewIndirection(tt.entries, tt.queues)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewIndirection(%d, %d) = %v, want an ErrConfig naming %s", tt.entries, tt.queues, err, tt.want)
		}
	}
	x, err := NewIndirection(8, 2)
	if err != nil {
		t.Fatal(err)
	}
	sets := []struct{ entry, queue int }{
		{8, 0},  // entry past the end
		{-1, 0}, // negative entry
		{0, 2},  // queue past the last
		{0, -1}, // negative queue
	}
	for _, s := range sets {
		if err := x.Set(s.entry, s.queue); !errors.Is(err, ErrConfig) {
			t.Errorf("Set(%d, %d) = %v, want ErrConfig", s.entry, s.queue, err)
		}
	}
}

func TestRSSDoesNotAllocate(t *testing.T) {
	tz := mustToeplitz(t, DefaultRSSKey())
	x, _ := NewIndirection(128, 4)
	f := FlowTuple{SrcIP: [4]byte{66, 9, 149, 187}, DstIP: [4]byte{161, 142, 100, 80}, SrcPort: 2794, DstPort: 1766}
	f6 := FlowTuple6{SrcPort: 1, DstPort: 2}
	in := f.HashInput(nil)
	var sink uint32
	for name, fn := range map[string]func(){
		"Hash":      func() { sink ^= tz.Hash(in) },
		"HashFlow":  func() { sink ^= tz.HashFlow(f) },
		"HashTuple": func() { b := f.Bytes(); sink ^= tz.HashTuple(&b) },
		"HashFlow6": func() { sink ^= tz.HashFlow6(f6) },
		"Lookup":    func() { sink ^= uint32(x.Lookup(sink)) },
	} {
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
	_ = sink
}

func BenchmarkToeplitz(b *testing.B) {
	tz := mustToeplitz(b, DefaultRSSKey())
	f := FlowTuple{SrcIP: [4]byte{66, 9, 149, 187}, DstIP: [4]byte{161, 142, 100, 80}, SrcPort: 2794, DstPort: 1766}
	f6 := FlowTuple6{SrcIP: [16]byte{0x3f, 0xfe, 0x25, 0x01}, DstIP: [16]byte{0xff, 0x02, 15: 1}, SrcPort: 2794, DstPort: 1766}
	var sink uint32
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
	}
	b.Run("ipv4_tcp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink ^= tz.HashFlow(f)
			f.SrcPort++ // a different flow each time, as on a busy link
		}
		report(b)
	})
	b.Run("ipv6_tcp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink ^= tz.HashFlow6(f6)
			f6.SrcPort++
		}
		report(b)
	})
	// The baseline: the specification's bit-by-bit loop, which the tables replace.
	b.Run("ipv4_tcp_bitwise", func(b *testing.B) {
		b.ReportAllocs()
		in := f.HashInput(nil)
		for b.Loop() {
			sink ^= refToeplitz(DefaultRSSKey(), in)
			in[10]++
		}
		report(b)
	})
	_ = sink
}
