package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/nicmodel/costs"
	"github.com/ndisbench/ndisbench/results"
)

// The run table's header: what every run had in common (setupAttrs), and the state of
// the host over the runs (hostLine).

// hostLine says what state the host was in over the runs, the things that move every
// figure without being part of the model: the kernel's clock source, the cross-CPU
// cache-line round trip measured before and after each run (the host moves vCPUs between
// near and far placements), and what other processes and the hypervisor took of the
// runs' CPUs. Ranges are over every run.
func hostLine(res *results.Result) string {
	var rtt, other []float64
	for _, r := range res.Runs {
		if v := r.Validity; v != nil {
			for _, ns := range v.Interference.CacheLineRTTNs {
				if ns > 0 {
					rtt = append(rtt, ns)
				}
			}
			if v.Interference.OtherCPUPct >= 0 {
				other = append(other, v.Interference.OtherCPUPct)
			}
		}
	}
	span := func(vs []float64, format, unit string) string {
		lo, hi := slices.Min(vs), slices.Max(vs)
		if fmt.Sprintf(format, lo) == fmt.Sprintf(format, hi) {
			return fmt.Sprintf(format, lo) + unit
		}
		return fmt.Sprintf(format+"–"+format, lo, hi) + unit
	}
	cs := res.Env.ClockSource
	if cs == "" {
		cs = "unknown"
	}
	parts := []string{"clocksource " + cs}
	if len(rtt) > 0 {
		parts = append(parts, "cache-line round trip "+span(rtt, "%.0f", " ns"))
	} else {
		parts = append(parts, "cache-line round trip not measured")
	}
	if len(other) > 0 {
		parts = append(parts, "other processes and steal "+span(other, "%.1f", "% of the runs' CPUs"))
	}
	return "host: " + strings.Join(parts, ", ")
}

// setupAttr is a setting of how a run ran: in the header when every run had the same,
// else a column of the table.
type setupAttr struct {
	name  string                    // the header's word, the column's title
	value func(*results.Run) string // "?" when the run does not say; "" keeps it out of the header
}

var setupAttrs = []setupAttr{
	{"vCPUs", func(r *results.Run) string {
		p := r.Platform
		if p == nil {
			return configValue(r, "vcpus")
		}
		cpus := vcpuCPUs(p)
		switch len(cpus) {
		case 0:
			return fmt.Sprint(p.VCPUs)
		case 1:
			return fmt.Sprintf("%d on CPU %s", p.VCPUs, cpus)
		}
		return fmt.Sprintf("%d on CPUs %s", p.VCPUs, cpus)
	}},
	{"queues", func(r *results.Run) string { return configValue(r, "queues") }},
	{"idle", func(r *results.Run) string {
		if r.Platform == nil {
			return configValue(r, "idle")
		}
		return r.Platform.Idle
	}},
	{"rate", func(r *results.Run) string {
		var pps float64
		if _, err := fmt.Sscan(configValue(r, "rate_pps"), &pps); err != nil {
			return "?"
		}
		s := mpps(pps)
		if sched := configValue(r, "schedule"); sched != "constant" {
			s += " " + sched
		}
		return s
	}},
	{"costs", costsAttr},
	{"pinned", func(r *results.Run) string {
		if r.Platform == nil {
			return "?"
		}
		return yesNo(r.Platform.Pinned)
	}},
	{"oversubscribed", func(r *results.Run) string {
		if r.Platform == nil {
			return "?"
		}
		return yesNo(r.Platform.Oversubscribed)
	}},
	{"packet histograms", func(r *results.Run) string { // said only when off
		if configValue(r, "no_packet_hists") == "true" {
			return "off"
		}
		return ""
	}},
	{"generator", func(r *results.Run) string {
		p := r.Platform
		switch {
		case p == nil:
			return "?"
		case p.GeneratorCPU < 0:
			return "unpinned"
		case vcpuCPUs(p).Contains(p.GeneratorCPU):
			return fmt.Sprintf("CPU %d (shared with a vCPU)", p.GeneratorCPU)
		}
		return fmt.Sprintf("CPU %d (own)", p.GeneratorCPU)
	}},
}

// costsAttr names the run's cost profile, with the keys that override it: "x86-25g",
// "zero (per_packet 500ns)". "" for a result written before costs existed.
func costsAttr(r *results.Run) string {
	name := configValue(r, "costs")
	if name == "?" {
		return ""
	}
	p, err := costs.Lookup(name)
	if err != nil {
		return name
	}
	var over []string
	for _, k := range costs.Keys() {
		d, err := time.ParseDuration(configValue(r, k))
		if err == nil && d != p.Cost(k) {
			over = append(over, k+" "+d.String())
		}
	}
	if len(over) > 0 {
		name += " (" + strings.Join(over, ", ") + ")"
	}
	return name
}

// splitSetup returns the settings every run had, as "name value", and those that
// differed between runs.
func splitSetup(runs []results.Run) (common []string, perRun []setupAttr) {
	for _, a := range setupAttrs {
		same := true
		for i := 1; i < len(runs) && same; i++ {
			same = a.value(&runs[i]) == a.value(&runs[0])
		}
		if !same {
			perRun = append(perRun, a)
		} else if len(runs) > 0 && a.value(&runs[0]) != "" {
			common = append(common, a.name+" "+a.value(&runs[0]))
		}
	}
	return common, perRun
}

// vcpuCPUs returns the real CPUs p's vCPUs ran on, as core assigns them: vCPU i on the
// i-th CPU of the list, vCPUs beyond its length sharing its CPUs again.
func vcpuCPUs(p *results.Platform) affinity.CPUList {
	all, err := affinity.ParseCPUList(p.CPUs)
	if err != nil || len(all) == 0 {
		return nil
	}
	var l affinity.CPUList
	for i := 0; i < p.VCPUs && i < len(all); i++ {
		l = append(l, all[i])
	}
	slices.Sort(l)
	return l
}

// configValue returns the run's resolved config value of key as text, "?" when absent.
func configValue(r *results.Run, key string) string {
	var cfg map[string]json.RawMessage
	if json.Unmarshal(r.Config, &cfg) != nil || cfg[key] == nil {
		return "?"
	}
	return strings.Trim(string(cfg[key]), `"`)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
