package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/ndisbench/ndisbench/results"
)

// cpuProfile is a CPU profile of the runs (-cpuprofile), kept in memory while it is
// taken and written atomically when it stops, so that an interrupted or failed command
// leaves either a whole profile or none.
type cpuProfile struct {
	path    string
	buf     bytes.Buffer
	stopped bool
}

// startCPUProfile checks that path can be written (a bad path is bad input, found before
// anything is measured) and starts the profiler; "" profiles nothing (nil).
func startCPUProfile(path string) (*cpuProfile, error) {
	if path == "" {
		return nil, nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, usagef("run: flag -cpuprofile: %s is a directory", path)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, usagef("run: flag -cpuprofile: %s: no such directory", dir)
	}
	if err := probeWritable(dir); err != nil {
		return nil, usagef("run: flag -cpuprofile: %s is not writable (%v)", dir, err)
	}
	p := &cpuProfile{path: path}
	if err := pprof.StartCPUProfile(&p.buf); err != nil {
		return nil, fmt.Errorf("run: flag -cpuprofile: %w", err)
	}
	return p, nil
}

// stop ends the profile and writes it; nil, or a second call, does nothing.
func (p *cpuProfile) stop() error {
	if p == nil || p.stopped {
		return nil
	}
	p.stopped = true
	pprof.StopCPUProfile()
	return results.WriteFileAtomic(p.path, func(w io.Writer) error {
		_, err := w.Write(p.buf.Bytes())
		return err
	})
}
