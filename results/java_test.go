package results

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

// The files in testdata/java were made by HdrHistogram's Java implementation (2.1.11):
// for each NAME.sSCALE.b64 (a histogram encoded by hdrhistogram-go), NAME.sSCALE.hgrm is
// Java's Histogram.outputPercentileDistribution(out, 5, SCALE); java.hlog is what Java's
// HistogramLogWriter wrote for latency1-3 tagged "isr_to_dpc" and batch tagged
// "dpc_batch_size" at 0, 1 and 2 s after its base time, then single untagged at 3 s for
// 0.5 s. testdata/java/Gen.java made them; to make them again (Debian):
//
//	apt-get install libhdrhistogram-java
//	cd testdata/java && javac -cp /usr/share/java/hdrhistogram.jar -d /tmp Gen.java &&
//	    java -cp /usr/share/java/hdrhistogram.jar:/tmp Gen .

func javaHistogram(t *testing.T, name string) *hdrhistogram.Histogram {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "java", name+".b64"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := hdrhistogram.Decode(bytes.TrimSpace(b))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHGRMMatchesJava checks WriteHGRM byte for byte against Java's
// outputPercentileDistribution.
func TestHGRMMatchesJava(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "java", "*.b64"))
	if err != nil || len(files) < 10 {
		t.Fatalf("%d Java cases (%v)", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".b64")
		t.Run(name, func(t *testing.T) {
			scale, err := strconv.ParseFloat(name[strings.LastIndex(name, ".s")+2:], 64)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "java", name+".hgrm"))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := WriteHGRM(&got, javaHistogram(t, name), scale); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("line %d differs from Java's:\ngot  %q\nwant %q", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("%d lines, Java wrote %d", len(gl), len(wl))
			}
		})
	}
}

// TestIntervalLogJava reads the log Java's HistogramLogWriter wrote, and checks that our
// writer writes the same interval lines (but for the compressed payload, whose zlib bytes
// differ between implementations).
func TestIntervalLogJava(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "java", "java.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := NewIntervalLogReader(f, "java.hlog")
	var got []Interval
	for lr.Scan() {
		got = append(got, lr.Interval())
	}
	if err := lr.Err(); err != nil {
		t.Fatal(err)
	}
	base := time.UnixMilli(1741964966535).UTC()
	if !lr.StartTime().Equal(base) || !lr.BaseTime().Equal(base) || lr.Version() != "1.3" {
		t.Errorf("start %v base %v version %q", lr.StartTime(), lr.BaseTime(), lr.Version())
	}
	var sets []IntervalSet
	var want []Interval
	for i := range 3 {
		set := IntervalSet{Start: time.Duration(i) * time.Second, Length: time.Second, Histograms: map[string]*hdrhistogram.Histogram{
			metric.ISRToDPC: javaHistogram(t, "latency"+strconv.Itoa(i+1)+".s1000"), metric.DPCBatchSize: javaHistogram(t, "batch.s1"),
		}}
		sets = append(sets, set)
		want = append(want,
			Interval{Tag: metric.ISRToDPC, Start: set.Start, Length: set.Length, Histogram: set.Histograms[metric.ISRToDPC]},
			Interval{Tag: metric.DPCBatchSize, Start: set.Start, Length: set.Length, Histogram: set.Histograms[metric.DPCBatchSize]})
	}
	want = append(want, Interval{Start: 3 * time.Second, Length: 500 * time.Millisecond, Histogram: javaHistogram(t, "single.s1000")})
	if len(got) != len(want) {
		t.Fatalf("read %d intervals, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Tag != w.Tag || g.Start != w.Start || g.Length != w.Length || !g.Histogram.Equals(w.Histogram) {
			t.Errorf("interval %d: %s %v+%v, want %s %v+%v", i, g.Tag, g.Start, g.Length, w.Tag, w.Start, w.Length)
		}
	}

	// Our writer, Java's defaults (max in ms for every tag): the same interval lines.
	var ours bytes.Buffer
	lw, err := NewIntervalLogWriter(&ours, base)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		// Java wrote isr_to_dpc first; WriteSet writes in tag order, so write by hand.
		lw.Write(Interval{Tag: metric.ISRToDPC, Start: s.Start, Length: s.Length, Histogram: s.Histograms[metric.ISRToDPC]})
		lw.Write(Interval{Tag: metric.DPCBatchSize, Start: s.Start, Length: s.Length, Histogram: s.Histograms[metric.DPCBatchSize]})
	}
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	javaLines := intervalLinePrefixes(t, filepath.Join("testdata", "java", "java.hlog"), nil)
	ourLines := intervalLinePrefixes(t, "", ours.Bytes())
	if len(javaLines) != 7 || len(ourLines) != 6 {
		t.Fatalf("%d Java lines, %d ours", len(javaLines), len(ourLines))
	}
	for i := range ourLines {
		if ourLines[i] != javaLines[i] {
			t.Errorf("line %d: ours %q, Java's %q", i, ourLines[i], javaLines[i])
		}
	}
}

// intervalLinePrefixes returns the interval lines of a log without their payloads, plus
// the BaseTime line.
func intervalLinePrefixes(t *testing.T, path string, data []byte) []string {
	t.Helper()
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || line[0] == '"' {
			continue
		}
		out = append(out, line[:strings.LastIndex(line, ",")+1])
	}
	return out
}
