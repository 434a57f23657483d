package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/ndisbench/ndisbench/results/metric"
)

// ErrExists reports an output directory that already holds files WriteDir may not replace.
var ErrExists = errors.New("output directory not empty")

// File names in a result directory.
const (
	ResultFile = "result.json"
	BenchFile  = "bench.txt"
	HGRMExt    = ".hgrm"
	HLogExt    = ".hlog"
	// ReportFile is the offline page of a result set (package results/report), which
	// Output.Extra writes.
	ReportFile = "report.html"
)

// tempPrefix and tempMarker make the names of temporary files and directories: hidden,
// and recognisable as unfinished, should a crash leave one behind.
const (
	tempPrefix = "."
	tempMarker = ".tmp-"
)

// WriteFileAtomic creates or replaces the file at path with what write writes, so that
// path never holds a partial file: write writes into a temporary file in path's directory
// (".<name>.tmp-*"), which is synced, given mode 0644 and renamed over path, and the
// directory is synced. If write or any step fails (or write panics), the temporary file is
// removed and path is left as it was.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, tempPrefix+name+tempMarker+"*")
	if err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := writeSynced(f, write); err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("results: write %s: sync directory: %w", path, err)
	}
	return nil
}

// writeSynced writes f through write, syncs it, sets its mode and closes it.
func writeSynced(f *os.File, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable. Windows cannot open directories for syncing, and
// some file systems refuse to sync them; neither is an error.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// Output is everything WriteDir (or Dir.Commit) writes into a result directory.
type Output struct {
	// Result is written as result.json, its histograms as .hgrm files and its runs as
	// bench.txt lines.
	Result *Result
	// Intervals holds each run's interval histograms: Intervals[i] belongs to
	// Result.Runs[i] and becomes its .hlog, whose start and base time is the run's
	// Started, so interval starts count from it (0s, 1s, ...). Nil means no interval logs
	// at all; otherwise it must have one entry per run (an empty one gives a log with a
	// header only).
	Intervals [][]IntervalSet
	// IntervalLogs, for Dir.Commit, holds each run's interval log streamed while it ran
	// (Dir.IntervalLog), in place of Intervals: IntervalLogs[i] becomes Result.Runs[i]'s
	// .hlog (renamed, not rewritten); one entry per run. Not with Intervals.
	IntervalLogs []*IntervalLogStream
	// Extra holds files made from the set itself, written after every other file (see
	// ExtraFile): report.html.
	Extra []ExtraFile
	// Replace allows WriteDir to replace a directory that holds a previous result set:
	// only result.json, bench.txt, report.html and .hgrm and .hlog files, result.json
	// among them. Other non-empty directories are never replaced.
	Replace bool
}

// ExtraFile is a file of a result set made from the set's other files: Write writes it
// to w, and may read the rest of the set, complete, in dir (the set's temporary
// directory, until it is moved into place; the file being written is there too). An
// error from Write fails the whole set: a writer that may fail on odd data (a plot)
// says so in its file instead.
type ExtraFile struct {
	Name  string // ReportFile: the one name allowed, so that Replace knows it
	Write func(w io.Writer, dir string) error
}

// RunStem returns the file-name stem of res.Runs[i]: its name when no other run of res
// has the same name, else "<name>.r<repetition>", with ".a<attempt>" added for an
// attempt after the first (bench run -retries). Files are <stem>.<histogram>.hgrm and
// <stem>.hlog.
func RunStem(res *Result, i int) string {
	run := &res.Runs[i]
	stem := run.Name
	for j := range res.Runs {
		if j != i && res.Runs[j].Name == run.Name {
			stem = run.Name + ".r" + strconv.Itoa(run.Repetition)
			break
		}
	}
	if run.Attempt > 0 {
		stem += ".a" + strconv.Itoa(run.Attempt)
	}
	return stem
}

// WriteDir writes out's result set into the directory path: result.json, bench.txt,
// <run>.<histogram>.hgrm for every histogram of every run (see RunStem and HGRMScale),
// when out.Intervals is set, <run>.hlog for every run, and out.Extra's files last.
//
// It writes atomically as a whole: every file goes into a temporary directory beside path
// (".<name>.tmp-*"), each synced, and that directory is renamed to path only when all are
// complete, so a reader finds either no result set or a complete one, never a half-written
// file. An interrupted write leaves at most that hidden temporary directory. path must not
// exist or be an empty directory, or, with out.Replace, hold a previous result set, which
// is then replaced (moved aside, the new set renamed into place, the old one removed).
// Otherwise it fails with ErrExists. The result is validated first (Validate).
//
// WriteDir is CreateDir and Dir.Commit in one call; a caller that streams interval logs
// while its runs go on uses those.
func WriteDir(path string, out *Output) error {
	if err := checkOutput(path, out); err != nil {
		return err
	}
	d, err := CreateDir(path, out.Replace)
	if err != nil {
		return err
	}
	defer d.Abort()
	return d.Commit(out)
}

// checkOutput checks out before anything is written.
func checkOutput(path string, out *Output) error {
	if out == nil || out.Result == nil {
		return errors.New("results: write dir: no result")
	}
	res := out.Result
	if err := res.validate(); err != nil {
		return fmt.Errorf("results: write dir %s: %w", path, err)
	}
	if out.Intervals != nil && len(out.Intervals) != len(res.Runs) {
		return fmt.Errorf("results: write dir %s: %d interval lists for %d runs", path, len(out.Intervals), len(res.Runs))
	}
	if out.IntervalLogs != nil && (out.Intervals != nil || len(out.IntervalLogs) != len(res.Runs)) {
		return fmt.Errorf("results: write dir %s: %d streamed interval logs for %d runs (and none in memory)", path, len(out.IntervalLogs), len(res.Runs))
	}
	for i, x := range out.Extra {
		if x.Name != ReportFile || x.Write == nil || slices.ContainsFunc(out.Extra[:i], func(y ExtraFile) bool { return y.Name == x.Name }) {
			return fmt.Errorf("results: write dir %s: extra file %q: want one %s with a writer", path, x.Name, ReportFile)
		}
	}
	return nil
}

// Dir is a result directory being written: CreateDir makes a hidden temporary directory
// beside its path (".<name>.tmp-*"), files go into it, and Commit moves it into place as
// a whole, as WriteDir does. Interval logs may be streamed into it while the runs go on
// (IntervalLog), so that a long run's intervals go to disk as they close instead of
// piling up in memory; Commit renames them into place. Abort, or a Commit that fails,
// removes it all. Its methods are for one goroutine, but for the streams' own.
type Dir struct {
	path, parent, name, tmp string
	replace                 bool
	streams                 []*IntervalLogStream
	done                    bool
}

// CreateDir starts writing a result set at path: path must be free (absent or an empty
// directory) or, with replace, hold a previous result set (WriteDir says which), now
// and again at Commit.
func CreateDir(path string, replace bool) (*Dir, error) {
	path = filepath.Clean(path)
	parent, name := filepath.Split(path)
	if parent == "" {
		parent = "."
	}
	if name == "" || name == "." || name == ".." {
		return nil, fmt.Errorf("results: write dir %s: the path must end in a directory name", path)
	}
	if _, err := checkDestination(path, replace); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("results: write dir %s: %w", path, err)
	}
	tmp, err := os.MkdirTemp(parent, tempPrefix+name+tempMarker+"*")
	if err != nil {
		return nil, fmt.Errorf("results: write dir %s: %w", path, err)
	}
	return &Dir{path: path, parent: parent, name: name, tmp: tmp, replace: replace}, nil
}

// IntervalLog returns a new interval log streamed into d: give it to Output.IntervalLogs
// at Commit, or Remove it (a run that did not start).
func (d *Dir) IntervalLog() (*IntervalLogStream, error) {
	if d.done {
		return nil, fmt.Errorf("results: write dir %s: committed or aborted", d.path)
	}
	f, err := os.CreateTemp(d.tmp, tempPrefix+"run"+HLogExt+tempMarker+"*")
	if err != nil {
		return nil, fmt.Errorf("results: write dir %s: %w", d.path, err)
	}
	s := &IntervalLogStream{f: f, path: f.Name(), lw: newLogWriter(f), ratios: map[string]bool{}}
	s.lw.warm() // before the run: what it writes then allocates nothing
	d.streams = append(d.streams, s)
	return s, nil
}

// Commit writes out's files into d (the streamed interval logs of out.IntervalLogs
// renamed to their runs' names) and moves d into place at its path, as WriteDir does.
// Streams of d that out does not name are removed. Whether it succeeds or fails, d is
// done.
func (d *Dir) Commit(out *Output) error {
	if d.done {
		return fmt.Errorf("results: write dir %s: committed or aborted", d.path)
	}
	defer d.Abort()
	if err := checkOutput(d.path, out); err != nil {
		return err
	}
	replaceOld, err := checkDestination(d.path, d.replace)
	if err != nil {
		return err
	}
	for _, s := range d.streams {
		if !slices.Contains(out.IntervalLogs, s) {
			s.Remove()
		}
	}
	if err := writeSet(d.tmp, out); err != nil {
		return fmt.Errorf("results: write dir %s: %w", d.path, err)
	}
	if err := os.Chmod(d.tmp, 0o755); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("results: write dir %s: %w", d.path, err)
	}
	if err := syncDir(d.tmp); err != nil {
		return fmt.Errorf("results: write dir %s: sync: %w", d.path, err)
	}
	if err := moveIntoPlace(d.tmp, d.path, d.parent, d.name, replaceOld); err != nil {
		return fmt.Errorf("results: write dir %s: %w", d.path, err)
	}
	d.done = true // in place: nothing for Abort to remove
	if err := syncDir(d.parent); err != nil {
		return fmt.Errorf("results: write dir %s: sync parent: %w", d.path, err)
	}
	return nil
}

// Abort gives up d: its temporary directory and every stream in it are removed. After
// Commit it does nothing.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	for _, s := range d.streams {
		s.Remove()
	}
	os.RemoveAll(d.tmp)
}

// checkDestination says whether path is free (absent or an empty directory; false) or
// holds a previous result set that may be replaced (true), or fails.
func checkDestination(path string, replace bool) (bool, error) {
	entries, err := os.ReadDir(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("results: write dir %s: %w", path, err)
	case len(entries) == 0:
		return false, nil
	case !replace:
		return false, fmt.Errorf("results: write dir %s: %w (set Replace to replace a previous result set)", path, ErrExists)
	}
	hasResult := false
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !isResultFileName(n) {
			return false, fmt.Errorf("results: write dir %s: holds %q, which is no result file: %w", path, n, ErrExists)
		}
		hasResult = hasResult || n == ResultFile
	}
	if !hasResult {
		return false, fmt.Errorf("results: write dir %s: holds no %s: %w", path, ResultFile, ErrExists)
	}
	return true, nil
}

func isResultFileName(n string) bool {
	return n == ResultFile || n == BenchFile || n == ReportFile || strings.HasSuffix(n, HGRMExt) || strings.HasSuffix(n, HLogExt)
}

// moveIntoPlace renames the finished directory tmp to path, first moving a previous
// result set or an empty directory out of the way.
func moveIntoPlace(tmp, path, parent, name string, replaceOld bool) error {
	if !replaceOld {
		// Absent, or an empty directory (which os.Remove removes and nothing else).
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return os.Rename(tmp, path)
	}
	old, err := os.MkdirTemp(parent, tempPrefix+name+".old-*")
	if err != nil {
		return err
	}
	aside := filepath.Join(old, name)
	if err := os.Rename(path, aside); err != nil {
		os.Remove(old)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		if rerr := os.Rename(aside, path); rerr != nil {
			return fmt.Errorf("%w (and restoring the previous result set from %s failed: %v)", err, aside, rerr)
		}
		os.Remove(old)
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		// The new set is in place; only the old one's removal failed.
		return fmt.Errorf("written, but the previous result set is left in %s: %w", old, err)
	}
	return nil
}

// writeSet writes every file of out into dir.
func writeSet(dir string, out *Output) error {
	res := out.Result
	create := func(name string, write func(io.Writer) error) error {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if err := writeSynced(f, write); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	stems := make(map[string]int, len(res.Runs))
	for i := range res.Runs {
		stem := RunStem(res, i)
		if j, dup := stems[stem]; dup {
			return fmt.Errorf("runs %d and %d would both write files named %q: %w", j, i, stem, ErrName)
		}
		stems[stem] = i
	}
	for i := range res.Runs {
		run := &res.Runs[i]
		stem := RunStem(res, i)
		for _, hname := range sortedKeys(run.Histograms) {
			hs := run.Histograms[hname]
			h, err := hs.Decode()
			if err != nil {
				return fmt.Errorf("run %q histogram %q: %w", run.Name, hname, err)
			}
			err = create(stem+"."+hname+HGRMExt, func(w io.Writer) error { return WriteHGRM(w, h, HGRMScale(hs.Unit)) })
			if err != nil {
				return err
			}
		}
		if out.IntervalLogs != nil {
			if err := out.IntervalLogs[i].commit(filepath.Join(dir, stem+HLogExt), run.Started); err != nil {
				return fmt.Errorf("%s: %w", stem+HLogExt, err)
			}
			continue
		}
		if out.Intervals == nil {
			continue
		}
		err := create(stem+HLogExt, func(w io.Writer) error {
			lw, err := NewIntervalLogWriter(w, run.Started)
			if err != nil {
				return err
			}
			for name, hs := range run.Histograms {
				if hs.Unit != metric.Nanoseconds {
					if err := lw.SetMaxValueRatio(name, 1); err != nil {
						return err
					}
				}
			}
			for _, set := range out.Intervals[i] {
				if err := lw.WriteSet(set); err != nil {
					return err
				}
			}
			return lw.Flush()
		})
		if err != nil {
			return err
		}
	}
	if err := create(BenchFile, func(w io.Writer) error { return WriteBench(w, res) }); err != nil {
		return err
	}
	err := create(ResultFile, func(w io.Writer) error {
		_, err := res.WriteTo(w)
		return err
	})
	if err != nil {
		return err
	}
	for _, x := range out.Extra {
		if err := create(x.Name, func(w io.Writer) error { return x.Write(w, dir) }); err != nil {
			return err
		}
	}
	return nil
}
