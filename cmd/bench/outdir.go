package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// checkOutputDir fails early, before anything is measured, when dir cannot receive a
// result set: it is a file, a directory that is not empty or not writable, or it does
// not exist and cannot be created (a file in its path, a directory that is not
// writable, a read-only file system). It leaves nothing behind: results.WriteDir makes
// its temporary directory beside dir and renames it into place, so the check makes and
// removes one where that will happen.
func checkOutputDir(dir string) error {
	dir = filepath.Clean(dir)
	fi, err := os.Stat(dir)
	exists := err == nil
	if exists {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", dir)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return fmt.Errorf("%s is not empty; choose a new directory", dir)
		}
		if err := probeWritable(dir); err != nil {
			return fmt.Errorf("%s is not writable (%w)", dir, err)
		}
	}
	// The nearest directory that exists on the way up: WriteDir creates the rest.
	anc := filepath.Dir(dir)
	for {
		fi, err := os.Stat(anc)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("cannot create %s: %s is not a directory", dir, anc)
			}
			break
		}
		up := filepath.Dir(anc)
		if up == anc {
			return fmt.Errorf("cannot create %s: %w", dir, err)
		}
		anc = up
	}
	if err := probeWritable(anc); err != nil {
		if exists {
			return fmt.Errorf("%s: its directory %s is not writable (%w)", dir, anc, err)
		}
		return fmt.Errorf("cannot create %s: %s is not writable (%w)", dir, anc, err)
	}
	return nil
}

// probeWritable reports whether a file can be created in dir, by creating and removing
// a hidden temporary directory there.
func probeWritable(dir string) error {
	p, err := os.MkdirTemp(dir, ".bench-probe-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err // the path is the probe's, which the user never named
		}
		return err
	}
	return os.Remove(p)
}
