package results

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/ndisbench/ndisbench/results/metric"
)

// IntervalLogStream is one run's interval log written while the run goes on, each
// interval as it closes: a file in a Dir's temporary directory, which Dir.Commit renames
// to the run's <stem>.hlog. Its bytes are those WriteDir writes for the same intervals:
// the header with the run's start (Begin), then the lines of each set in order, each
// histogram's Interval_Max scaled by its unit in the metric registry (ratio 1 for
// anything but nanoseconds).
//
// One goroutine writes (Begin, WriteSet); Commit or Remove may come from another, after
// which writes are refused: a run abandoned while it still writes cannot touch a result
// set that is being committed.
type IntervalLogStream struct {
	mu     sync.Mutex
	f      *os.File
	path   string
	lw     *IntervalLogWriter
	begun  bool            // the header is written
	ratios map[string]bool // tags whose max value ratio is set
	err    error           // the first error: Commit returns it
	closed bool
}

// errStreamClosed refuses writes to a stream that was committed or removed.
var errStreamClosed = errors.New("results: interval log stream: committed or removed")

// Begin writes the log's header, start being its start and base time (the run's
// Started), unless it is written already.
func (s *IntervalLogStream) Begin(start time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.begin(start)
}

func (s *IntervalLogStream) begin(start time.Time) error {
	switch {
	case s.closed:
		return errStreamClosed
	case s.err != nil || s.begun:
		return s.err
	}
	s.begun = true
	s.err = s.lw.header(start)
	return s.err
}

// WriteSet appends one interval's lines (IntervalLogWriter.WriteSet) and writes them
// to the file. Begin must have been called.
func (s *IntervalLogStream) WriteSet(set IntervalSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return errStreamClosed
	case s.err != nil:
		return s.err
	case !s.begun:
		s.err = errors.New("results: interval log stream: WriteSet before Begin")
		return s.err
	}
	ratio := func(tag string) error {
		if s.ratios[tag] {
			return nil
		}
		s.ratios[tag] = true
		if u := metric.Unit(tag); u != "" && u != metric.Nanoseconds {
			return s.lw.SetMaxValueRatio(tag, 1)
		}
		return nil
	}
	for tag := range set.Histograms {
		if s.err = ratio(tag); s.err != nil {
			return s.err
		}
	}
	for tag := range set.Packed {
		if s.err = ratio(tag); s.err != nil {
			return s.err
		}
	}
	if err := s.lw.WriteSet(set); err != nil {
		s.err = err
		return err
	}
	if err := s.lw.Flush(); err != nil {
		s.err = err
	}
	return s.err
}

// Err returns the first error the stream met.
func (s *IntervalLogStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Remove closes the stream and removes its file: for a run that did not start.
func (s *IntervalLogStream) Remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.f.Close()
		os.Remove(s.path)
	}
}

// commit finishes the log (its header written with start if no interval was: a run
// that ended in its warm-up), syncs it and renames it to path, in the same directory.
func (s *IntervalLogStream) commit(path string, start time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStreamClosed
	}
	err := s.begin(start)
	if err == nil {
		err = s.lw.Flush()
	}
	s.closed = true
	if err == nil {
		if err = s.f.Chmod(0o644); err != nil && runtime.GOOS == "windows" {
			err = nil
		}
	}
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.path, path)
	}
	if err != nil {
		os.Remove(s.path)
		return fmt.Errorf("interval log: %w", err)
	}
	return nil
}
