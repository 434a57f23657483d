package results

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// checkEncoder checks packedEncoder on p: what it writes decodes, with the library's
// decoders (dense and sparse), to p, and is PackedHistogram.Encode's but for the
// deflate level: the same header and payload once inflated.
func checkEncoder(t *testing.T, e *packedEncoder, p *hdrhistogram.PackedHistogram, what string) {
	t.Helper()
	want, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := inflate(t, got), inflate(t, want); !bytes.Equal(g, w) {
		t.Errorf("%s: inflated, %d bytes unlike PackedHistogram.Encode's %d", what, len(g), len(w))
	}
	sparse, err := hdrhistogram.DecodePacked(got)
	if err != nil {
		t.Fatalf("%s: DecodePacked: %v", what, err)
	}
	again, _ := sparse.Encode()
	if !bytes.Equal(again, want) {
		t.Errorf("%s: decoded and encoded again, unlike the original", what)
	}
	if p.TotalCount() < math.MaxInt64/4 { // a dense histogram cannot hold the huge counts' sum
		dense, err := hdrhistogram.Decode(got)
		if err != nil {
			t.Fatalf("%s: Decode: %v", what, err)
		}
		if dense.TotalCount() != p.TotalCount() || (p.TotalCount() > 0 && dense.Max() != p.Max()) {
			t.Errorf("%s: decoded %d values (max %d), want %d (max %d)", what, dense.TotalCount(), dense.Max(), p.TotalCount(), p.Max())
		}
	}
}

// inflate returns the header and payload of an encoded histogram.
func inflate(t *testing.T, enc []byte) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(string(enc))
	if err != nil || len(raw) < 8 || binary.BigEndian.Uint32(raw) != v2CompressedEncodingCookie {
		t.Fatalf("not a V2 compressed histogram (%v)", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPackedEncoderIsTheLibrarys: the interval log's encoder writes what
// PackedHistogram.Encode writes but for the deflate level, for every layout ndisbench
// uses and others, empty, with one bucket, with zero runs of one and more, and with
// counts whose ZigZag form takes all nine bytes; reusing one encoder changes nothing.
func TestPackedEncoderIsTheLibrarys(t *testing.T) {
	var e packedEncoder
	rng := rand.New(rand.NewPCG(3, 4))
	for _, l := range []struct {
		lowest, highest int64
		digits          int
	}{{1, 10e9, 3}, {1, 1 << 20, 3}, {1, 3600e9, 2}, {1000, 10e9, 4}, {1, 2, 1}, {1, math.MaxInt64 / 2, 5}} {
		p := hdrhistogram.NewPacked(l.lowest, l.highest, l.digits)
		checkEncoder(t, &e, p, "empty")
		_ = p.RecordValue(l.lowest)
		checkEncoder(t, &e, p, "one value")
		_ = p.RecordValues(l.highest, 1<<62) // a count of nine ZigZag bytes
		checkEncoder(t, &e, p, "a huge count at the ceiling")
		p.Reset()
		for range 5000 {
			_ = p.RecordValue(min(l.highest, int64(rng.ExpFloat64()*float64(l.highest)/1e4)))
		}
		_ = p.RecordValues(0, 3)
		checkEncoder(t, &e, p, "exponential values")
	}
}

// FuzzPackedEncoder: for any values and counts, what the encoder writes decodes to them
// and inflates to what the library writes.
func FuzzPackedEncoder(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 5})
	f.Add(bytes.Repeat([]byte{0xff, 0x10, 0, 0, 0, 0, 0, 0, 1}, 20))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e packedEncoder
		p := hdrhistogram.NewPacked(1, 10e9, 3)
		for len(data) >= 9 {
			v := int64(binary.LittleEndian.Uint64(data) % uint64(10e9+1))
			_ = p.RecordValues(v, int64(data[8])+1)
			data = data[9:]
		}
		checkEncoder(t, &e, p, "fuzzed")
	})
}

// BenchmarkIntervalEncode is what an interval log pays per histogram line: the
// encoder it uses, next to the library's own.
func BenchmarkIntervalEncode(b *testing.B) {
	p := hdrhistogram.NewPacked(1, 10e9, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000000 {
		_ = p.RecordValue(int64(2000 + rng.ExpFloat64()*5000))
	}
	b.Run("reused", func(b *testing.B) {
		var e packedEncoder
		b.ReportAllocs()
		for b.Loop() {
			_, _ = e.encode(p)
		}
	})
	b.Run("library-baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = p.Encode()
		}
	})
}
