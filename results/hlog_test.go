package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

// sampleIntervals returns n one-second interval sets of two histograms each.
func sampleIntervals(t testing.TB, n int) []IntervalSet {
	t.Helper()
	var sets []IntervalSet
	for i := range n {
		sets = append(sets, IntervalSet{
			Start:  time.Duration(i) * time.Second,
			Length: time.Second,
			Histograms: map[string]*hdrhistogram.Histogram{
				metric.ISRToDPC:     latencyHistogram(t, uint64(i+1), 500, 800),
				metric.DPCBatchSize: batchHistogram(t, uint64(i+1), 200),
			},
		})
	}
	return sets
}

func writeLog(t testing.TB, start time.Time, sets []IntervalSet) []byte {
	t.Helper()
	var buf bytes.Buffer
	lw, err := NewIntervalLogWriter(&buf, start)
	if err != nil {
		t.Fatal(err)
	}
	if err := lw.SetMaxValueRatio(metric.DPCBatchSize, 1); err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if err := lw.WriteSet(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIntervalLogRoundTrip(t *testing.T) {
	sets := sampleIntervals(t, 4)
	sets = append(sets, IntervalSet{Start: 4*time.Second + 250*time.Millisecond, Length: 750 * time.Millisecond,
		Histograms: map[string]*hdrhistogram.Histogram{metric.ISRToDPC: hdrhistogram.New(1, 10e9, 3)}}) // a short, empty last interval
	data := writeLog(t, testStart, sets)

	lr := NewIntervalLogReader(bytes.NewReader(data), "test.hlog")
	var got []Interval
	for lr.Scan() {
		got = append(got, lr.Interval())
	}
	if err := lr.Err(); err != nil {
		t.Fatal(err)
	}
	var want []Interval
	for _, s := range sets {
		for _, tag := range sortedKeys(s.Histograms) {
			want = append(want, Interval{Tag: tag, Start: s.Start, Length: s.Length, Histogram: s.Histograms[tag]})
		}
	}
	if len(got) != len(want) {
		t.Fatalf("read %d intervals, wrote %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		if g.Tag != w.Tag || g.Start != w.Start || g.Length != w.Length || !g.Histogram.Equals(w.Histogram) {
			t.Errorf("interval %d: got %s %v+%v (%d values), want %s %v+%v (%d values)",
				i, g.Tag, g.Start, g.Length, g.Histogram.TotalCount(), w.Tag, w.Start, w.Length, w.Histogram.TotalCount())
		}
		if g.Histogram.Tag() != w.Tag {
			t.Errorf("interval %d: histogram tagged %q, want %q", i, g.Histogram.Tag(), w.Tag)
		}
		wantMax := 0.0
		if w.Histogram.TotalCount() > 0 {
			wantMax = float64(w.Histogram.Max())
			if w.Tag == metric.ISRToDPC {
				wantMax /= DefaultMaxValueRatio
			}
		}
		if math.Abs(g.Max-wantMax) > 0.0005 {
			t.Errorf("interval %d: max column %v, want %v", i, g.Max, wantMax)
		}
		if g.Line != 5+i { // four header lines before the first interval
			t.Errorf("interval %d on line %d, want %d", i, g.Line, 5+i)
		}
	}
	if !lr.StartTime().Equal(testStart) || !lr.BaseTime().Equal(testStart) || lr.Version() != IntervalLogVersion {
		t.Errorf("start %v base %v version %q, want %v, %v, %q", lr.StartTime(), lr.BaseTime(), lr.Version(), testStart, testStart, IntervalLogVersion)
	}
}

// TestIntervalLogReadableByHdrHistogramGo reads the log with hdrhistogram-go's own
// reader, which follows HdrHistogram's Java HistogramLogReader.
func TestIntervalLogReadableByHdrHistogramGo(t *testing.T) {
	sets := sampleIntervals(t, 3)
	data := writeLog(t, testStart, sets)
	lr := hdrhistogram.NewHistogramLogReader(bytes.NewReader(data))
	n := 0
	for ; ; n++ {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		set := sets[n/2]
		tag := sortedKeys(set.Histograms)[n%2]
		if h.Tag() != tag || !h.Equals(set.Histograms[tag]) {
			t.Errorf("histogram %d: tag %q (%d values), want %q (%d values)", n, h.Tag(), h.TotalCount(), tag, set.Histograms[tag].TotalCount())
		}
		wantStart := testStart.Add(set.Start).UnixMilli()
		if h.StartTimeMs() != wantStart || h.EndTimeMs() != wantStart+set.Length.Milliseconds() {
			t.Errorf("histogram %d: %d..%d ms, want %d..%d", n, h.StartTimeMs(), h.EndTimeMs(), wantStart, wantStart+set.Length.Milliseconds())
		}
	}
	if n != 6 {
		t.Errorf("hdrhistogram-go read %d histograms, want 6", n)
	}
}

// TestIntervalLogReadsJavaLog reads a log in the exact shape HdrHistogram's Java
// HistogramLogWriter produces (untagged and tagged lines, a Java date, no base time).
func TestIntervalLogReadsJavaLog(t *testing.T) {
	h := hdrhistogram.New(1, 3600e9, 3)
	h.RecordValues(1000, 3)
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	log := "#[Logged with jHiccup version 2.0.7]\r\n" +
		"#[Histogram log format version 1.2]\r\n" +
		"#[StartTime: 1441812279.474 (seconds since epoch), Wed Sep 09 08:24:39 PDT 2015]\r\n" +
		"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\r\n" +
		"0.127,1.007,0.001,HISTFAAAABl42pNpmSzMwMDAyIAKYHwm+w9QFgA8ewJ6\r\n" +
		"Tag=A,1.134,0.999,0.001," + string(enc) + "\r\n"
	lr := NewIntervalLogReader(strings.NewReader(log), "jhiccup.hlog")
	var got []Interval
	for lr.Scan() {
		got = append(got, lr.Interval())
	}
	if err := lr.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Tag != "" || got[0].Start != 127*time.Millisecond || got[0].Length != 1007*time.Millisecond ||
		got[1].Tag != "A" || got[1].Start != 1134*time.Millisecond || !got[1].Histogram.Equals(h) {
		t.Fatalf("read %+v", got)
	}
	wantStart := time.UnixMilli(1441812279474).UTC()
	if !lr.StartTime().Equal(wantStart) || !lr.BaseTime().Equal(wantStart) || lr.Version() != "1.2" {
		t.Errorf("start %v, base %v, version %q; want %v for both, 1.2", lr.StartTime(), lr.BaseTime(), lr.Version(), wantStart)
	}
}

func TestIntervalLogReaderErrors(t *testing.T) {
	h := hdrhistogram.New(1, 1000, 3)
	h.RecordValue(5)
	enc, _ := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	good := "Tag=a,0.000,1.000,0.000," + string(enc)
	head := "#[Histogram log format version 1.3]\n#[StartTime: 10.000 (seconds since epoch), x]\n"
	tests := []struct {
		name      string
		log       string
		line      int   // the line the error names
		want      error // sentinel
		intervals int   // read before the error
	}{
		// Too few fields.
		{"three fields", head + good + "\n0.000,1.000,HISTFAAA\n", 4, ErrSyntax, 1},
		// A histogram that does not decode.
		{"bad payload", head + "0.000,1.000,0.000,HISTFAAAAAAAAAA\n", 3, ErrSyntax, 0},
		// Timestamps are numbers.
		{"bad start", head + strings.Replace(good, "0.000,1.000", "abc,1.000", 1) + "\n", 3, ErrSyntax, 0},
		// ... not negative ones.
		{"negative length", head + strings.Replace(good, "0.000,1.000", "0.000,-1.000", 1) + "\n", 3, ErrSyntax, 0},
		// ... nor infinite ones.
		{"infinite start", head + strings.Replace(good, "0.000,1.000", "Inf,1.000", 1) + "\n", 3, ErrSyntax, 0},
		// A tag with no comma after it.
		{"unterminated tag", head + "Tag=abc\n", 3, ErrSyntax, 0},
		// An empty tag.
		{"empty tag", head + "Tag=,0.000,1.000,0.000," + string(enc) + "\n", 3, ErrSyntax, 0},
		// The max column is a number.
		{"bad max", head + strings.Replace(good, ",0.000,H", ",NaN,H", 1) + "\n", 3, ErrSyntax, 0},
		// A future major format version.
		{"version 2", "#[Histogram log format version 2.0]\n" + good + "\n", 1, ErrVersion, 0},
		// A malformed start time.
		{"bad start time", "#[StartTime: soon (seconds since epoch)]\n" + good + "\n", 1, ErrSyntax, 0},
		// A malformed base time after a good interval.
		{"bad base time", head + good + "\n#[BaseTime: -5 (seconds since epoch)]\n", 4, ErrSyntax, 1},
		// A line past the length limit.
		{"huge line", head + strings.Repeat("1", MaxIntervalLogLine+10) + "\n", 3, ErrTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := NewIntervalLogReader(strings.NewReader(tt.log), "bad.hlog")
			n := 0
			for lr.Scan() {
				n++
			}
			err := lr.Err()
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.File != "bad.hlog" || pe.Line != tt.line || !errors.Is(err, tt.want) || n != tt.intervals {
				t.Errorf("after %d intervals: %v (line %d); want line %d, %v, after %d", n, err, pe.Line, tt.line, tt.want, tt.intervals)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("results: bad.hlog:%d: ", tt.line)) {
				t.Errorf("error %q does not start with the file and line", err)
			}
			if lr.Scan() {
				t.Error("Scan went on after an error")
			}
		})
	}
}

func TestIntervalLogWriterRefuses(t *testing.T) {
	lw, err := NewIntervalLogWriter(io.Discard, testStart)
	if err != nil {
		t.Fatal(err)
	}
	h := hdrhistogram.New(1, 1000, 3)
	tests := []struct {
		name string
		iv   Interval
	}{
		// Commas would split the line.
		{"comma in tag", Interval{Tag: "a,b", Histogram: h}},
		// Spaces too.
		{"space in tag", Interval{Tag: "a b", Histogram: h}},
		// Every line is tagged.
		{"no tag", Interval{Histogram: h}},
		// Times do not run backwards.
		{"negative start", Interval{Tag: "a", Start: -time.Second, Histogram: h}},
		// Something to write.
		{"nil histogram", Interval{Tag: "a"}},
	}
	for _, tt := range tests {
		if err := lw.Write(tt.iv); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if err := lw.SetMaxValueRatio("a", 0); err == nil {
		t.Error("ratio 0 accepted")
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestIntervalLogWriterReportsWriteErrors(t *testing.T) {
	if _, err := NewIntervalLogWriter(&failWriter{n: 10}, testStart); err == nil {
		t.Fatal("header write error not reported")
	}
	lw, err := NewIntervalLogWriter(&failWriter{n: 300}, testStart)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sampleIntervals(t, 3) {
		lw.WriteSet(s)
	}
	if err := lw.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush: %v, want the write error", err)
	}
}

func FuzzReadIntervalLog(f *testing.F) {
	f.Add(writeLog(f, testStart, sampleIntervals(f, 2)))
	f.Add([]byte("#[StartTime: 1.5 (seconds since epoch)]\n#[BaseTime: 1.0 (seconds since epoch)]\n0.1,0.2,0.3,HISTFAAAABl42pNpmSzMwMDAyIAKYHwm+w9QFgA8ewJ6\n"))
	f.Add([]byte("Tag=x,1,2,3,\n"))
	f.Add([]byte("#[Histogram log format version 1.3]\n\"legend\"\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lr := NewIntervalLogReader(bytes.NewReader(data), "fuzz.hlog")
		var ivs []Interval
		for lr.Scan() {
			iv := lr.Interval()
			if iv.Histogram == nil || iv.Start < 0 || iv.Length < 0 || iv.Line < 1 {
				t.Fatalf("bad interval %+v", iv)
			}
			ivs = append(ivs, iv)
			if len(ivs) > 100 {
				break
			}
		}
		if err := lr.Err(); err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error %v is not a *ParseError with a line", err)
			}
		}
		// What was read, written again, reads back the same (tags that cannot be
		// written are skipped; times to the millisecond, the format's resolution).
		var buf bytes.Buffer
		lw, err := NewIntervalLogWriter(&buf, testStart)
		if err != nil {
			t.Fatal(err)
		}
		var written []Interval
		for _, iv := range ivs {
			if CheckName("tag", iv.Tag) != nil || iv.Start > 1e6*time.Second || iv.Length > 1e6*time.Second {
				continue
			}
			iv.Start = iv.Start.Round(time.Millisecond)
			iv.Length = iv.Length.Round(time.Millisecond)
			if err := lw.Write(iv); err != nil {
				t.Fatalf("writing %+v: %v", iv, err)
			}
			written = append(written, iv)
		}
		if err := lw.Flush(); err != nil {
			t.Fatal(err)
		}
		back := NewIntervalLogReader(&buf, "again.hlog")
		for i := 0; back.Scan(); i++ {
			g, w := back.Interval(), written[i]
			if g.Tag != w.Tag || g.Start != w.Start || g.Length != w.Length || !g.Histogram.Equals(w.Histogram) {
				t.Fatalf("interval %d: wrote %s %v+%v, read %s %v+%v", i, w.Tag, w.Start, w.Length, g.Tag, g.Start, g.Length)
			}
		}
		if err := back.Err(); err != nil {
			t.Fatalf("reading what was written: %v\n%s", err, buf.Bytes())
		}
	})
}

// TestIntervalLogSparseWritesAsDense: an interval kept sparse (IntervalSet.Packed) is
// logged byte for byte as its dense equivalent, and a tag in both forms is refused.
func TestIntervalLogSparseWritesAsDense(t *testing.T) {
	dense := sampleIntervals(t, 3)
	var sparse []IntervalSet
	for _, s := range dense {
		ps := IntervalSet{Start: s.Start, Length: s.Length, Packed: map[string]*hdrhistogram.PackedHistogram{}}
		for tag, h := range s.Histograms {
			p := hdrhistogram.NewPacked(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
			if dropped := p.MergeFrom(h); dropped != 0 {
				t.Fatalf("%s: %d values dropped", tag, dropped)
			}
			ps.Packed[tag] = p
		}
		sparse = append(sparse, ps)
	}
	if d, s := writeLog(t, testStart, dense), writeLog(t, testStart, sparse); !bytes.Equal(d, s) {
		t.Errorf("sparse log differs from dense:\n%s\n%s", d, s)
	}
	both := sparse[0]
	both.Histograms = dense[0].Histograms
	lw, err := NewIntervalLogWriter(io.Discard, testStart)
	if err != nil {
		t.Fatal(err)
	}
	if err := lw.WriteSet(both); err == nil {
		t.Error("a tag both dense and sparse was accepted")
	}
}
