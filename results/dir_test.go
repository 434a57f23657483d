package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func sampleOutput(t *testing.T) *Output {
	res := sampleResult(t)
	out := &Output{Result: res}
	for range res.Runs {
		out.Intervals = append(out.Intervals, sampleIntervals(t, 2))
	}
	return out
}

func TestWriteDir(t *testing.T) {
	out := sampleOutput(t)
	path := filepath.Join(t.TempDir(), "nested", "out")
	if err := WriteDir(path, out); err != nil {
		t.Fatal(err)
	}
	want := []string{"bench.txt", "result.json"}
	for _, stem := range []string{"msix", "line.r0", "line.r1"} {
		want = append(want, stem+".hlog")
		for _, h := range []string{metric.DPCBatchSize, metric.IRQDelivery, metric.ISRToDPC, metric.PacketLatency} {
			want = append(want, stem+"."+h+".hgrm")
		}
	}
	slices.Sort(want)
	if got := dirNames(t, path); !slices.Equal(got, want) {
		t.Fatalf("files\n%q\nwant\n%q", got, want)
	}
	if leftovers := dirNames(t, filepath.Dir(path)); !slices.Equal(leftovers, []string{"out"}) {
		t.Errorf("beside the output: %q", leftovers)
	}

	// result.json reads back equal.
	back, err := ReadFile(filepath.Join(path, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, out.Result) {
		t.Error("result.json differs from the result written")
	}
	// Each .hgrm is WriteHGRM of the decoded histogram, scaled for its unit.
	for _, hname := range []string{metric.ISRToDPC, metric.DPCBatchSize} {
		hs := out.Result.Runs[1].Histograms[hname]
		h, err := hs.Decode()
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		WriteHGRM(&want, h, HGRMScale(hs.Unit))
		got, err := os.ReadFile(filepath.Join(path, "line.r0."+hname+".hgrm"))
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("line.r0.%s.hgrm differs from WriteHGRM's output (%v)", hname, err)
		}
	}
	// Each .hlog holds the run's intervals, timed from the run's start.
	f, err := os.Open(filepath.Join(path, "line.r1.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := NewIntervalLogReader(f, "line.r1.hlog")
	n := 0
	for ; lr.Scan(); n++ {
		iv := lr.Interval()
		set := out.Intervals[2][n/2]
		if iv.Start != set.Start || !iv.Histogram.Equals(set.Histograms[iv.Tag]) {
			t.Errorf("interval %d (%s) differs", n, iv.Tag)
		}
		if iv.Tag == metric.DPCBatchSize && iv.Max != float64(set.Histograms[iv.Tag].Max()) {
			t.Errorf("batch size max column %v, want the count %d unscaled", iv.Max, set.Histograms[iv.Tag].Max())
		}
	}
	if lr.Err() != nil || n != 4 || !lr.BaseTime().Equal(out.Result.Runs[2].Started) {
		t.Errorf("read %d intervals, err %v, base %v; want 4, nil, %v", n, lr.Err(), lr.BaseTime(), out.Result.Runs[2].Started)
	}
	// bench.txt is WriteBench's output.
	var bench bytes.Buffer
	WriteBench(&bench, out.Result)
	if got, _ := os.ReadFile(filepath.Join(path, BenchFile)); !bytes.Equal(got, bench.Bytes()) {
		t.Error("bench.txt differs from WriteBench's output")
	}
}

func TestWriteDirDestinations(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // what is at path before
		replace bool
		want    error // nil: success
	}{
		// Nothing there: created.
		{"absent", func(t *testing.T, path string) {}, false, nil},
		// An empty directory: filled.
		{"empty dir", func(t *testing.T, path string) { os.Mkdir(path, 0o755) }, false, nil},
		// A previous result set without Replace: refused.
		{"previous set", writePrevious, false, ErrExists},
		// A previous result set with Replace: replaced.
		{"previous set replaced", writePrevious, true, nil},
		// A directory with other files, even with Replace: refused.
		{"foreign file", func(t *testing.T, path string) {
			writePrevious(t, path)
			os.WriteFile(filepath.Join(path, "notes.md"), []byte("mine"), 0o644)
		}, true, ErrExists},
		// Result-looking files without a result.json, with Replace: refused.
		{"no result.json", func(t *testing.T, path string) {
			os.Mkdir(path, 0o755)
			os.WriteFile(filepath.Join(path, "x.hgrm"), nil, 0o644)
		}, true, ErrExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			path := filepath.Join(parent, "out")
			tt.prepare(t, path)
			before := snapshotDir(t, path)
			out := sampleOutput(t)
			out.Replace = tt.replace
			err := WriteDir(path, out)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("WriteDir: %v, want %v", err, tt.want)
				}
				if after := snapshotDir(t, path); !reflect.DeepEqual(before, after) {
					t.Error("a refused write changed the directory")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ReadFile(filepath.Join(path, ResultFile)); err != nil {
					t.Fatal(err)
				}
				if names := dirNames(t, path); slices.Contains(names, "old.hgrm") {
					t.Error("the previous set's files survived the replacement")
				}
			}
			if names := dirNames(t, parent); !slices.Equal(names, []string{"out"}) && !(len(names) == 0 && tt.want != nil) {
				t.Errorf("beside the output: %q", names)
			}
		})
	}
}

// writePrevious makes path hold a previous result set with a file the new one lacks.
func writePrevious(t *testing.T, path string) {
	t.Helper()
	res := sampleResult(t)
	res.Runs = res.Runs[:1]
	if err := WriteDir(path, &Output{Result: res}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "old.hgrm"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// snapshotDir returns the names and contents of path's files (nil if path is absent).
func snapshotDir(t *testing.T, path string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(path, e.Name()))
		m[e.Name()] = string(b)
	}
	return m
}

func TestWriteDirFailureLeavesNothing(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(out *Output)
		contains string // in the error
	}{
		// An interval tag that cannot be written: fails after some files are written.
		{"bad tag", func(out *Output) {
			out.Intervals[2][1].Histograms["bad tag"] = hdrhistogram.New(1, 10, 1)
		}, `tag name "bad tag"`},
		// Interval lists not matching the runs.
		{"interval count", func(out *Output) { out.Intervals = out.Intervals[:1] }, "1 interval lists for 3 runs"},
		// An invalid result is not written at all.
		{"invalid result", func(out *Output) { out.Result.Runs[0].DurationNs = -1 }, "duration_ns"},
		// Two runs that would write the same files ("line" repetition 1 is "line.r1").
		{"stem clash", func(out *Output) {
			out.Result.Runs = append(out.Result.Runs, out.Result.Runs[0])
			out.Result.Runs[3].Name, out.Result.Runs[3].Repetition = "line.r1", 0
			out.Intervals = append(out.Intervals, nil)
		}, `both write files named "line.r1"`},
		// An extra file whose writer fails fails the set, after every other file.
		{"extra fails", func(out *Output) {
			out.Extra = []ExtraFile{{ReportFile, func(io.Writer, string) error { return errors.New("no plot") }}}
		}, "report.html: no plot"},
		// An extra file of another name: Replace would not know it.
		{"extra name", func(out *Output) {
			out.Extra = []ExtraFile{{"notes.md", func(io.Writer, string) error { return nil }}}
		}, `extra file "notes.md"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			out := sampleOutput(t)
			tt.edit(out)
			err := WriteDir(filepath.Join(parent, "out"), out)
			if err == nil || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("WriteDir: %v, want an error saying %q", err, tt.contains)
			}
			if names := dirNames(t, parent); len(names) != 0 {
				t.Errorf("a failed write left %q", names)
			}
		})
	}
}

// TestWriteDirExtraFile checks that an extra file is written last, with the rest of
// the set complete in the directory it is given, and that a set with one is replaced
// as a whole.
func TestWriteDirExtraFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	for _, replace := range []bool{false, true} {
		out := sampleOutput(t)
		out.Replace = replace
		var saw []string
		out.Extra = []ExtraFile{{ReportFile, func(w io.Writer, dir string) error {
			saw = slices.DeleteFunc(dirNames(t, dir), func(n string) bool { return n == ReportFile }) // itself, being written
			if _, err := ReadFile(filepath.Join(dir, ResultFile)); err != nil {
				return err
			}
			_, err := io.WriteString(w, "<!doctype html>")
			return err
		}}}
		if err := WriteDir(path, out); err != nil {
			t.Fatalf("replace %v: %v", replace, err)
		}
		names := dirNames(t, path)
		if want := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == ReportFile }); !slices.Equal(saw, want) {
			t.Errorf("replace %v: the writer saw %q, want the whole set %q", replace, saw, want)
		}
		if b, err := os.ReadFile(filepath.Join(path, ReportFile)); err != nil || string(b) != "<!doctype html>" {
			t.Errorf("replace %v: report.html %q, %v", replace, b, err)
		}
	}
}

func TestWriteDirRefusesPathsWithoutName(t *testing.T) {
	for _, p := range []string{".", "/", ""} {
		if err := WriteDir(p, sampleOutput(t)); err == nil {
			t.Errorf("WriteDir(%q) succeeded", p)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := WriteFileAtomic(path, write("first")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, write("second")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second" {
		t.Errorf("content %q", b)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v)", fi.Mode(), err)
	}

	// A failing write leaves the old content and no temporary file.
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("partial", 100000))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want boom", err)
	}
	// So does a panicking one.
	func() {
		defer func() { recover() }()
		WriteFileAtomic(path, func(w io.Writer) error {
			io.WriteString(w, "partial")
			panic("crash")
		})
	}()
	if b, _ := os.ReadFile(path); string(b) != "second" {
		t.Errorf("after failures the content is %q", b)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"f.txt"}) {
		t.Errorf("directory holds %q", names)
	}
	// A missing directory is an error naming the path.
	if err := WriteFileAtomic(filepath.Join(dir, "no", "f"), write("x")); err == nil || !strings.Contains(err.Error(), "no") {
		t.Errorf("write into a missing directory: %v", err)
	}
}

func TestRunStem(t *testing.T) {
	res := sampleResult(t)
	for i, want := range []string{"msix", "line.r0", "line.r1"} {
		if got := RunStem(res, i); got != want {
			t.Errorf("RunStem(%d) = %q, want %q", i, got, want)
		}
	}
	// bench run -retries keeps every attempt: each gets files of its own.
	retry := res.Runs[0]
	retry.Attempt = 1
	res.Runs = append(res.Runs, retry)
	for i, want := range []string{"msix.r0", "line.r0", "line.r1", "msix.r0.a1"} {
		if got := RunStem(res, i); got != want {
			t.Errorf("with a retry: RunStem(%d) = %q, want %q", i, got, want)
		}
	}
}

func ExampleWriteDir() {
	// After the runs: summarize each merged histogram into the result.
	h := hdrhistogram.New(1, 10e9, 3)
	for v := int64(500); v < 1500; v++ {
		h.RecordValue(v)
	}
	s, err := Summarize(h, metric.Nanoseconds)
	if err != nil {
		panic(err)
	}
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	res := New("msi-vs-line", DetectEnvironment())
	res.Started, res.Finished = start, start.Add(time.Second)
	res.Runs = []Run{{
		Name: "msix", Started: start, DurationNs: int64(time.Second),
		Histograms: map[string]Histogram{metric.ISRToDPC: s},
	}}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	out := &Output{Result: res, Intervals: [][]IntervalSet{{
		{Start: 0, Length: time.Second, Histograms: map[string]*hdrhistogram.Histogram{metric.ISRToDPC: h}},
	}}}
	if err := WriteDir(filepath.Join(dir, "out"), out); err != nil {
		panic(err)
	}
	back, err := ReadFile(filepath.Join(dir, "out", ResultFile))
	if err != nil {
		panic(err)
	}
	p := back.Runs[0].Histograms[metric.ISRToDPC]
	fmt.Println(dirNamesOf(filepath.Join(dir, "out")))
	fmt.Println(p.Count, p.P50, p.P99, p.Max)
	// Output:
	// [bench.txt msix.hlog msix.isr_to_dpc.hgrm result.json]
	// 1000 999 1489 1499
}

func dirNamesOf(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
