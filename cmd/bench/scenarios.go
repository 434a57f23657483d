package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
)

// variant is one run of a scenario: its name in tables and files, and what it changes.
type variant struct {
	name string
	set  func(*nicmodel.Scenario)
}

// scenarioDef is a built-in scenario: the runs it compares over the common base.
type scenarioDef struct {
	name     string
	summary  string
	params   string   // what the variants change, for "bench list"
	varies   []string // flags the variants set, which the user may not override
	variants []variant
	base     func(*nicmodel.Scenario) // changes to the common base; flags given override them
	file     string                   // the scenario file it came from, if any
}

// where names the scenario in errors: the file it came from, or its name.
func (d *scenarioDef) where() string {
	if d.file != "" {
		return d.file
	}
	return "scenario " + d.name
}

const defaultScenario = "msi-vs-line"

func throttleVariants() []variant {
	var vs []variant
	for _, n := range []int{1, 8, 32, 64, 256, 0} {
		name := "throttle=" + strconv.Itoa(n)
		if n == 0 {
			name = "throttle=all"
		}
		vs = append(vs, variant{name, func(s *nicmodel.Scenario) { s.Throttle = n }})
	}
	return vs
}

func handoffVariants() []variant {
	var vs []variant
	for _, idle := range []core.IdleStrategy{core.IdleSpin, core.IdleSpinYield, core.IdleSpinPark} {
		vs = append(vs,
			variant{"idle=" + idle.String() + "/dpc=same-cpu", func(s *nicmodel.Scenario) {
				s.Idle, s.Mode = idle, nicmodel.ModeMSIX // each queue's message on its own CPU: DPC queued where the ISR runs
			}},
			variant{"idle=" + idle.String() + "/dpc=cross-cpu", func(s *nicmodel.Scenario) {
				s.Idle, s.Mode = idle, nicmodel.ModeMSI // one message on vCPU 0: other queues' DPCs go cross-CPU
			}})
	}
	return vs
}

var scenarios = []scenarioDef{
	{
		name:    "msi-vs-line",
		summary: "the same seeded traffic through MSI-X (a message per queue) and a line-based interrupt",
		params:  "mode=msix, mode=line",
		varies:  []string{"mode"},
		variants: []variant{
			{"msix", func(s *nicmodel.Scenario) { s.Mode = nicmodel.ModeMSIX }},
			{"line", func(s *nicmodel.Scenario) { s.Mode = nicmodel.ModeLine }},
		},
	},
	{
		name:     "throttle",
		summary:  "receive throttling: max indications per DPC call 1, 8, 32, 64, 256 and all (R8)",
		params:   "throttle=1,8,32,64,256,all; mode msix, 50µs interrupt moderation so DPCs find batches",
		varies:   []string{"throttle"},
		variants: throttleVariants(),
		base: func(s *nicmodel.Scenario) {
			s.ModerationInterval = 50 * time.Microsecond
		},
	},
	{
		name:     "handoff",
		summary:  "ISR→DPC handoff by idle strategy, DPCs on the ISR's CPU vs on another CPU",
		params:   "idle=spin,spin-yield,spin-park × dpc=same-cpu (msix), cross-cpu (msi, one message)",
		varies:   []string{"idle", "mode"},
		variants: handoffVariants(),
	},
	{
		name:    "msi-sync",
		summary: "MSISyncWithAllMessages off vs on: every message ISR serialized (R5)",
		params:  "msi_sync=false,true; mode msix",
		varies:  []string{"mode"},
		variants: []variant{
			{"msi-sync=off", func(s *nicmodel.Scenario) { s.Mode, s.MSISync = nicmodel.ModeMSIX, false }},
			{"msi-sync=on", func(s *nicmodel.Scenario) { s.Mode, s.MSISync = nicmodel.ModeMSIX, true }},
		},
	},
	{
		name:    "rss",
		summary: "RSS in the NIC (a queue per CPU) vs driver-side sorting of one queue in the DPC (R10)",
		params:  "rss=nic, rss=driver; mode msix",
		varies:  []string{"queues"},
		variants: []variant{
			{"rss=nic", func(s *nicmodel.Scenario) { s.RSS, s.Queues = nicmodel.RSSNIC, s.VCPUs }},
			{"rss=driver", func(s *nicmodel.Scenario) { s.RSS, s.Queues = nicmodel.RSSDriver, 1 }},
		},
	},
	{
		name:    "shared-line",
		summary: "a line-based interrupt alone vs shared with a noisy second device (R3)",
		params:  "noise=0, noise=50000/s; mode line",
		varies:  []string{"mode"},
		variants: []variant{
			{"alone", func(s *nicmodel.Scenario) { s.Mode, s.NoiseRate = nicmodel.ModeLine, 0 }},
			{"noise=50k", func(s *nicmodel.Scenario) { s.Mode, s.NoiseRate = nicmodel.ModeLine, 50e3 }},
		},
	},
}

func findScenario(name string) (*scenarioDef, error) {
	for i := range scenarios {
		if scenarios[i].name == name {
			return &scenarios[i], nil
		}
	}
	names := ""
	for i, s := range scenarios {
		if i > 0 {
			names += ", "
		}
		names += s.name
	}
	return nil, fmt.Errorf("unknown scenario %q (want one of %s; see \"bench list\")", name, names)
}
