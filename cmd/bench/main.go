// Command bench is ndisbench's command line: it runs the NDIS interrupt model's
// benchmarks and measures the machine they run on.
//
// Usage:
//
//	bench <command> [flags]
//
// Run "bench help" for the commands and "bench help <command>" for one command's flags
// and examples. Exit status: 0 on success, 1 when a measurement or an invariant fails,
// 2 on bad usage or bad input (flags, files), 130 when interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second Ctrl-C exits at once: the first one cancelled ctx, and a run that is
		// still writing what it measured should not hold the user hostage.
		<-ctx.Done()
		stop()
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		<-again
		fmt.Fprintln(os.Stderr, "bench: interrupted again; exiting without waiting")
		os.Exit(130)
	}()
	err := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	os.Exit(exitCode(os.Stderr, err))
}

// usageError is bad usage or bad input: a flag, a file the user named. It exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errInterrupted marks a run stopped by a signal after it wrote what it had measured.
var errInterrupted = errors.New("interrupted")

// errInvalidRun marks a scenario of which a run was not a valid measurement: its results
// are written, flagged. It exits 3.
var errInvalidRun = errors.New("not a valid measurement")

// exitCode prints err (if any) and maps it to the process exit status.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var ue usageError
	switch {
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 130
	case errors.Is(err, errInvalidRun):
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 3
	default:
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
}
