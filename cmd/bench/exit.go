package main

import (
	"errors"
	"fmt"
	"io"
)

// Exit statuses of every command (DESIGN.md §5). exitCode maps a command's error to one.
const (
	exitOK          = 0   // success (help included)
	exitFailed      = 1   // an invariant broke, (compare) a regression, or anything else that failed
	exitUsage       = 2   // bad usage or input: a flag, a file, a key the user gave
	exitInvalidRun  = 3   // a run was not a valid measurement (its results are written, flagged)
	exitUndecided   = 4   // (compare) the data could not decide
	exitInterrupted = 130 // a signal stopped it; what was measured is written, marked interrupted
)

// exitStatusHelp documents the exit statuses for "bench help" and the commands' usage.
const exitStatusHelp = `Exit status:
  0    success
  1    an invariant broke (results are still written), or (compare) a regression
  2    bad usage or input: a flag, a file or a key, named in the message; nothing is written
  3    a run was not a valid measurement (the host disturbed it; results are written, flagged)
  4    (compare) the results could not decide: too few valid repetitions, or runs
       whose configuration or environment differ (0 with -allow-undecided)
  130  interrupted (what was measured is written, marked interrupted)
`

// usageError is bad usage or bad input: a flag, a file the user named. It exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

var (
	// errHelp is returned when the user asked for help; it exits 0.
	errHelp = errors.New("help requested")
	// errInterrupted marks a run stopped by a signal after it wrote what it had
	// measured; it exits 130.
	errInterrupted = errors.New("interrupted")
	// errInvalidRun marks a command whose runs were written but at least one of them
	// is not a valid measurement (DESIGN.md §5); wrap it (fmt.Errorf("...: %w",
	// errInvalidRun)) to exit 3. A broken invariant outranks it: an error for both
	// must not wrap errInvalidRun, so that it exits 1.
	errInvalidRun = errors.New("not a valid measurement")
	// errUndecided marks a comparison whose data cannot decide; it exits 4.
	errUndecided = errors.New("could not decide")
	// errRegression marks a comparison that found a regression; it exits 1, and an
	// error for both a regression and an undecided run must wrap it alone.
	errRegression = errors.New("regression")
)

// statusError is an error with a message of its own whose exit status is kind's
// (errRegression, errUndecided): the message need not end in the kind's words.
type statusError struct {
	msg  string
	kind error
}

func (e statusError) Error() string { return e.msg }
func (e statusError) Unwrap() error { return e.kind }

// exitCode prints err (if any) and maps it to the process exit status.
func exitCode(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "bench: %v\n", err)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.Is(err, errRegression):
		return exitFailed
	case errors.Is(err, errInvalidRun):
		return exitInvalidRun
	case errors.Is(err, errUndecided):
		return exitUndecided
	default:
		return exitFailed
	}
}
