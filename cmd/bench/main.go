// Command bench is ndisbench's command line: it runs the NDIS interrupt model's
// benchmarks, measures the machine they run on, and compares results against a
// baseline (bench compare).
//
// Usage:
//
//	bench <command> [flags]
//
// Run "bench help" for the commands and "bench help <command>" for one command's flags
// and examples. Exit status: 0 on success; 1 when an invariant broke or (compare) a
// regression; 2 on bad usage or bad input (flags, files, keys); 3 when a run was not a
// valid measurement; 4 when (compare) the results could not decide; 130 when interrupted.
// exit.go maps errors to them.
package main

import (
	"context"
	"fmt"
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
