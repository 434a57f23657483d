package main

import (
	"embed"
	"fmt"
	"path"
	"strings"

	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// builtinFiles are the built-in scenarios: scenario files like a user's, parsed by the
// same code. Each is a good start for a file of one's own (bench list -files prints them).
//
//go:embed scenarios/*.yaml
var builtinFiles embed.FS

// builtinOrder is the order "bench list" shows them in; the first is the default.
var builtinOrder = []string{"msi-vs-line", "throttle", "handoff", "msi-sync", "rss", "shared-line", "line-rate"}

const defaultScenario = "msi-vs-line"

// scenarioDef is a scenario to run: a parsed file, and where it came from.
type scenarioDef struct {
	*scenario.File
	source string // for errors and the table's title: "scenario throttle", "file x.yaml", "replay of A/result.json"
	replay bool   // every run sets every key: scenario flags are refused
	// noHeadline says why there is no headline when the file is not known (a report of
	// a result whose scenario is no built-in); "" otherwise.
	noHeadline string
}

// params describes the runs for "bench list": "msix (mode=msix), line (mode=line)".
func (d *scenarioDef) params() string {
	parts := make([]string, len(d.Runs))
	for i, r := range d.Runs {
		parts[i] = r.Name
		if len(r.Set) > 0 {
			parts[i] += " (" + r.Set.String() + ")"
		}
	}
	s := strings.Join(parts, ", ")
	if len(d.Base) > 0 {
		s += "; base " + d.Base.String()
	}
	return s
}

// builtin returns the built-in scenario called name and its file's text.
func builtin(name string) (*scenarioDef, []byte, error) {
	p := path.Join("scenarios", name+".yaml")
	data, err := builtinFiles.ReadFile(p)
	if err != nil {
		return nil, nil, fmt.Errorf("unknown scenario %q (want one of %s; see \"bench list\")", name, strings.Join(builtinOrder, ", "))
	}
	f, err := scenario.ParseFile(p, data)
	if err != nil {
		return nil, nil, fmt.Errorf("built-in %w", err) // a test parses every one
	}
	return &scenarioDef{File: f, source: "scenario " + name}, data, nil
}
