package rings

import (
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
)

// raceEnabled reports whether this test binary was built with -race, from its build
// settings, so that the check of which storeRelease is in force needs no file per build.
func raceEnabled(t *testing.T) bool {
	t.Helper()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build information in this binary")
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestStoreReleaseBuild checks that the build files chose the implementation the
// invariants promise: the plain MOV on amd64 without the race detector, atomic.Store
// everywhere else.
func TestStoreReleaseBuild(t *testing.T) {
	want := runtime.GOARCH == "amd64" && !raceEnabled(t)
	if releaseStoreIsPlain != want {
		t.Fatalf("releaseStoreIsPlain = %v on %s with race %v, want %v", releaseStoreIsPlain, runtime.GOARCH, raceEnabled(t), want)
	}
	t.Logf("storeRelease is plain: %v (%s, race %v)", releaseStoreIsPlain, runtime.GOARCH, raceEnabled(t))
}

// TestStoreReleaseLayout checks what the assembly relies on: an atomic.Uint64 is 8
// bytes, 8-aligned, and its one field of nonzero size is a uint64 at offset 0.
func TestStoreReleaseLayout(t *testing.T) {
	typ := reflect.TypeFor[atomic.Uint64]()
	if typ.Size() != 8 || typ.Align() != 8 {
		t.Fatalf("atomic.Uint64: size %d align %d, want 8 and 8", typ.Size(), typ.Align())
	}
	values := 0
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Type.Size() == 0 {
			continue // noCopy, align64
		}
		values++
		if f.Type.Kind() != reflect.Uint64 || f.Offset != 0 {
			t.Errorf("atomic.Uint64 field %s: %s at offset %d, want the uint64 value at 0", f.Name, f.Type, f.Offset)
		}
	}
	if values != 1 {
		t.Errorf("atomic.Uint64 has %d fields of nonzero size, want 1", values)
	}
}

// TestStoreRelease stores into the middle word of three, checking that the value lands
// whole (all 64 bits) and that the neighbours are untouched.
func TestStoreRelease(t *testing.T) {
	tests := []uint64{
		0,                  // zero over a nonzero value
		1,                  // the low byte only
		1 << 32,            // the high half only: a 4-byte store would lose it
		math.MaxUint64,     // every bit
		0x0123456789abcdef, // every byte different
		math.MaxUint64 - 1, // just below the wrap
	}
	var words [3]atomic.Uint64
	words[0].Store(0xa5a5a5a5a5a5a5a5)
	words[1].Store(42)
	words[2].Store(0x5a5a5a5a5a5a5a5a)
	for _, v := range tests {
		storeRelease(&words[1], v)
		if got := words[1].Load(); got != v {
			t.Errorf("storeRelease(%#x) then Load = %#x", v, got)
		}
		if words[0].Load() != 0xa5a5a5a5a5a5a5a5 || words[2].Load() != 0x5a5a5a5a5a5a5a5a {
			t.Fatalf("storeRelease(%#x) wrote outside its word: %#x %#x", v, words[0].Load(), words[2].Load())
		}
	}
}

// TestStoreReleaseMessagePassing is the pattern every ring hand-off is made of: the
// sender writes plain data, then release-stores a flag; the receiver spins on the flag
// with an atomic load, then reads the data, which must be what was written, then hands
// the buffer back the same way. Under -race a missing edge is a reported race; without
// it, a store the compiler or the CPU moved across the flag shows as wrong data.
func TestStoreReleaseMessagePassing(t *testing.T) {
	rounds := 200000
	if testing.Short() {
		rounds = 20000
	}
	var (
		data     [4]uint64     // plain memory, owned by whoever the flags say
		sent     atomic.Uint64 // the sender's flag: round r's data is written
		received atomic.Uint64 // the receiver's flag: round r's data is read
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() { // the sender
		defer wg.Done()
		for r := uint64(1); r <= uint64(rounds); r++ {
			for spins := 0; received.Load() != r-1; spins++ {
				if spins&63 == 63 {
					runtime.Gosched()
				}
			}
			for i := range data {
				data[i] = r*4 + uint64(i)
			}
			storeRelease(&sent, r)
		}
	}()
	for r := uint64(1); r <= uint64(rounds); r++ {
		for spins := 0; sent.Load() != r; spins++ {
			if spins&63 == 63 {
				runtime.Gosched()
			}
		}
		for i, v := range data {
			if v != r*4+uint64(i) {
				t.Fatalf("round %d: data[%d] = %d, want %d", r, i, v, r*4+uint64(i))
			}
		}
		storeRelease(&received, r)
	}
	wg.Wait()
}
