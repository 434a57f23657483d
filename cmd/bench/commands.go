package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// command is one subcommand: its one-line summary, its full usage text with examples,
// and the function that parses its flags and runs it.
type command struct {
	summary string
	usage   string
	run     func(ctx context.Context, stdout, stderr io.Writer, args []string) error
}

// commands maps each subcommand's name to its command.
var commands = map[string]command{
	"calibrate": calibrateCommand,
	"compare":   compareCommand,
	"costs":     costsCommand,
	"run":       runCommand,
	"list":      listCommand,
	"ndr":       ndrCommand,
	"plot":      plotCommand,
	"report":    reportCommand,
	"version":   versionCommand,
}

// run dispatches args to a subcommand.
func run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given")
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			c, ok := commands[rest[0]]
			if !ok {
				return usagef("help: unknown command %q", rest[0])
			}
			fmt.Fprint(stdout, c.usage)
			return nil
		}
		printUsage(stdout)
		return nil
	case "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		printUsage(stderr)
		return usagef("unknown command %q", name)
	}
	return c.run(ctx, stdout, stderr, rest)
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, "ndisbench: a benchmark of NDIS miniport interrupt handling (line-based, MSI, MSI-X),\n"+
		"run as an executable model on CPU-pinned cores.\n\nUsage:\n\n\tbench <command> [flags]\n\nCommands:\n\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "\t%-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun \"bench help <command>\" for a command's flags and examples.\n\n"+exitStatusHelp)
}

// parseFlags parses args into fs, turning every failure into a usageError that names the
// command and the flag; -h prints the usage to stdout and returns errHelp. Stray
// positional arguments are errors.
func parseFlags(fs *flag.FlagSet, usage string, stdout io.Writer, args []string) error {
	if err := parseFlagsOnly(fs, usage, stdout, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (see \"bench help %s\")",
			fs.Name(), strings.Join(fs.Args(), " "), fs.Name())
	}
	return nil
}

// parseInterspersed parses args into fs as parseFlags does, but lets positional
// arguments stand between the flags (bench compare base new -force), and returns them
// in order.
func parseInterspersed(fs *flag.FlagSet, usage string, stdout io.Writer, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlagsOnly(fs, usage, stdout, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// parseFlagsArgs is parseFlags for a command that takes arguments after its flags
// (bench plot DIR...): it returns them. A flag among them is refused, as the flag
// package would take it for an argument.
func parseFlagsArgs(fs *flag.FlagSet, usage string, stdout io.Writer, args []string) ([]string, error) {
	if err := parseFlagsOnly(fs, usage, stdout, args); err != nil {
		return nil, err
	}
	for _, a := range fs.Args() {
		if len(a) > 1 && a[0] == '-' {
			return nil, usagef("%s: flag %s after the directories: flags go first (see \"bench help %s\")", fs.Name(), a, fs.Name())
		}
	}
	return fs.Args(), nil
}

// parseFlagsOnly parses the flags of args into fs, leaving the arguments after them in
// fs.Args().
func parseFlagsOnly(fs *flag.FlagSet, usage string, stdout io.Writer, args []string) error {
	fs.SetOutput(io.Discard) // errors are reported once, by exitCode
	fs.Usage = func() {}
	plainErrors(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return errHelp
		}
		return usagef("%s: %v (see \"bench help %s\")", fs.Name(), err, fs.Name())
	}
	return nil
}
