package results

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

// packedIntervals returns sets like sampleIntervals' in the sparse form a run streams.
func packedIntervals(t *testing.T, n int) []IntervalSet {
	sets := sampleIntervals(t, n)
	for i, set := range sets {
		packed := map[string]*hdrhistogram.PackedHistogram{}
		for name, h := range set.Histograms {
			p := hdrhistogram.NewPacked(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
			p.MergeFrom(h)
			packed[name] = p
		}
		sets[i] = IntervalSet{Start: set.Start, Length: set.Length, Packed: packed}
	}
	return sets
}

// TestStreamedIntervalLogsAreWriteDirs: a result set whose interval logs were streamed
// while the runs went on (Dir, IntervalLogStream) is, file for file and byte for byte,
// the one WriteDir writes from the same intervals in memory, and its logs read back with
// IntervalLogReader. A run that ended in its warm-up (no interval) gets the header only,
// as before; a stream removed (a run that did not start) or left out of the Output
// leaves no trace.
func TestStreamedIntervalLogsAreWriteDirs(t *testing.T) {
	out := sampleOutput(t)
	out.Intervals = [][]IntervalSet{packedIntervals(t, 3), nil, packedIntervals(t, 1)}
	parent := t.TempDir()
	memory, streamed := filepath.Join(parent, "memory"), filepath.Join(parent, "streamed")
	if err := WriteDir(memory, out); err != nil {
		t.Fatal(err)
	}

	d, err := CreateDir(streamed, false)
	if err != nil {
		t.Fatal(err)
	}
	failed, err := d.IntervalLog() // a run that did not start
	if err != nil {
		t.Fatal(err)
	}
	failed.Remove()
	forgotten, _ := d.IntervalLog() // one the Output does not name
	_ = forgotten.Begin(out.Result.Runs[0].Started)
	var logs []*IntervalLogStream
	for i, sets := range out.Intervals {
		s, err := d.IntervalLog()
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range sets {
			if err := s.Begin(out.Result.Runs[i].Started); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteSet(set); err != nil {
				t.Fatal(err)
			}
		}
		logs = append(logs, s)
	}
	if err := d.Commit(&Output{Result: out.Result, IntervalLogs: logs}); err != nil {
		t.Fatal(err)
	}
	if got, want := snapshotDir(t, streamed), snapshotDir(t, memory); !reflect.DeepEqual(got, want) {
		var names []string
		for n := range got {
			if got[n] != want[n] {
				names = append(names, n)
			}
		}
		t.Errorf("the streamed result set differs from WriteDir's in %q (files %d and %d)", names, len(got), len(want))
	}
	if names := dirNames(t, parent); !slices.Equal(names, []string{"memory", "streamed"}) {
		t.Errorf("left beside the result sets: %q", names)
	}
	f, err := os.Open(filepath.Join(streamed, "msix.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := NewIntervalLogReader(f, "msix.hlog")
	n := 0
	for lr.Scan() {
		if iv := lr.Interval(); iv.Tag == metric.ISRToDPC && iv.Histogram.TotalCount() != 500 {
			t.Errorf("line %d: %d values, want 500", iv.Line, iv.Histogram.TotalCount())
		}
		n++
	}
	if lr.Err() != nil || n != 3*2 {
		t.Errorf("msix.hlog: %d intervals read back (%v), want 6", n, lr.Err())
	}
	if err := logs[0].WriteSet(out.Intervals[0][0]); err == nil {
		t.Error("a stream took a write after its Commit")
	}
}

// TestDirAbortLeavesNothing: a result set given up (every run failed) leaves nothing
// beside its path, streams included, and its path is not created.
func TestDirAbortLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	d, err := CreateDir(filepath.Join(parent, "out"), false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.IntervalLog()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Begin(sampleResult(t).Runs[0].Started); err != nil {
		t.Fatal(err)
	}
	d.Abort()
	if names := dirNames(t, parent); len(names) != 0 {
		t.Errorf("an aborted result set left %q", names)
	}
	if err := s.WriteSet(sampleIntervals(t, 1)[0]); err == nil {
		t.Error("a stream of an aborted result set took a write")
	}
	if err := os.WriteFile(filepath.Join(parent, "busy"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateDir(parent, false); err == nil {
		t.Error("CreateDir accepted a directory that holds a file")
	}
}
