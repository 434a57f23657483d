package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ndisbench/ndisbench/nicmodel/costs"
)

var costsCommand = command{
	summary: "list the cost profiles, every value with its source",
	usage:   costsUsage,
	run:     runCosts,
}

const costsUsage = `Usage: bench costs [-profile NAME]

Costs lists the cost model's profiles (DESIGN.md §8): what a real NIC and CPU charge that
the Go model does not pay by itself, each value with its source, and where the sources
are weak. A run's key "costs" (-set costs=NAME) picks a profile; each cost key
(-set per_packet=500ns, ...) overrides one of its values. result.json records the profile
and every value in force (runs[].config), and the table's header names them.

The zero profile is the default of every scenario but msi-vs-line: it measures the
harness itself. msi-vs-line runs with ` + costs.Default + `.

Flags:
  -profile NAME   list only this profile

Examples:
  bench costs
  bench costs -profile ` + costs.Default + `
  bench run -set costs=zero -set per_packet=500ns
`

func runCosts(_ context.Context, stdout, _ io.Writer, args []string) error {
	fs := flag.NewFlagSet("costs", flag.ContinueOnError)
	only := fs.String("profile", "", "")
	if err := parseFlags(fs, costsUsage, stdout, args); err != nil {
		return err
	}
	list := costs.Profiles()
	if *only != "" {
		p, err := costs.Lookup(*only)
		if err != nil {
			return usagef("costs: flag -profile: %v", err)
		}
		list = []costs.Profile{p}
	}
	for i, p := range list {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		mark := ""
		if p.Name == costs.Default {
			mark = " (msi-vs-line)"
		}
		fmt.Fprintf(stdout, "%s%s: %s\n", p.Name, mark, p.Summary)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, v := range p.Values {
			fmt.Fprintf(tw, "  %s\t%v\t%s\n", v.Key, v.Cost, v.Source)
		}
		tw.Flush()
		if p.Weak != "" {
			fmt.Fprintf(stdout, "  weak sources: %s\n", p.Weak)
		}
	}
	return nil
}
