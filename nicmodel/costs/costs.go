// Package costs is ndisbench's cost model (DESIGN.md §8): what a real NIC and CPU
// charge that a Go program does not pay by itself, as named profiles with a source for
// every value. A run injects each cost on the vCPU that would pay it, through its clock's
// Spin: the scenario keys of the same names (package scenario) start from the profile the
// key "costs" names, and an explicit key overrides its profile's value.
//
// The package holds data only: it does not spend anything (core, nicmodel and the
// drivers do, where each cost belongs), and it imports nothing of ndisbench's, so that
// the scenario table can read it.
package costs

import (
	"fmt"
	"strings"
	"time"
)

// The cost keys: scenario keys, flags (with '-' for '_') and result.json config keys.
const (
	MMIORead      = "mmio_read"      // the line ISR's read of the NIC's cause register
	IRQEntry      = "irq_entry"      // interrupt entry, paid on the vCPU before its ISR starts
	IRQEOI        = "irq_eoi"        // end of interrupt (EOI) and return, after the ISR
	IPISend       = "ipi_send"       // a DPC queued on another vCPU: the queuing vCPU's IPI
	IPIWake       = "ipi_wake"       // the same: the target vCPU's IPI entry before the DPC starts
	PerPacket     = "per_packet"     // miniport DPC work per received descriptor
	RSSHash       = "rss_hash"       // driver-side RSS: the DPC's Toeplitz hash per packet
	PerIndication = "per_indication" // stack work per indication call
)

// Keys returns every cost key, in the order profiles list them.
func Keys() []string {
	return []string{MMIORead, IRQEntry, IRQEOI, IPISend, IPIWake, PerPacket, RSSHash, PerIndication}
}

// Value is one cost of a profile with where its figure comes from.
type Value struct {
	Key    string        // one of Keys
	Cost   time.Duration // what is spent each time
	Source string        // the figure's source, or "estimate: ..." with its reasoning
}

// Profile is a named set of costs, one Value per key.
type Profile struct {
	Name    string
	Summary string
	Values  []Value // one per key, in Keys order
	// Weak says, in words, where the profile's sources are weak and how a user measures
	// their own machine instead.
	Weak string
}

// Cost returns the profile's value of key; 0 when it has none.
func (p Profile) Cost(key string) time.Duration {
	for _, v := range p.Values {
		if v.Key == key {
			return v.Cost
		}
	}
	return 0
}

// Default names the profile the default scenario (msi-vs-line) runs with. The scenario
// key "costs" itself defaults to Zero, so that every other scenario, and every
// scenario written before costs existed, keeps measuring the harness alone.
const (
	Default = "x86-25g"
	Zero    = "zero"
)

// measureOwn is how a user measures their own costs.
const measureOwn = "Measure your own: ETW's ISR and DPC events (xperf -on PROC_THREAD+LOADER+INTERRUPT+DPC, " +
	"then WPA's DPC/ISR Duration by Module) give the ISR and DPC time per interrupt of a real driver; " +
	"divide the DPC time by the packets it indicated for per_packet. \"bench calibrate\" measures this " +
	"machine's cache-line round trip and futex wake, the floor under every handoff the model pays for itself."

var profiles = []Profile{
	{
		Name:    Zero,
		Summary: "nothing injected: what the harness itself costs (the Go model's own work only)",
		Values: []Value{
			{MMIORead, 0, "none injected"},
			{IRQEntry, 0, "none injected"},
			{IRQEOI, 0, "none injected"},
			{IPISend, 0, "none injected"},
			{IPIWake, 0, "none injected"},
			{PerPacket, 0, "none injected"},
			{RSSHash, 0, "none injected (the model's own Toeplitz hash still runs)"},
			{PerIndication, 0, "none injected"},
		},
	},
	{
		Name:    Default,
		Summary: "a typical 10/25 GbE NIC on a current x86 server, bare metal, x2APIC",
		Values: []Value{
			{MMIORead, time.Microsecond,
				"Neugebauer et al., \"Understanding PCIe performance for end host networking\", SIGCOMM 2018: " +
					"a non-posted PCIe read costs ~0.5-1 us round trip on current Xeons, more under load or " +
					"across sockets; measurements range 0.5-5 us"},
			{IRQEntry, 500 * time.Nanosecond,
				"estimate: vector delivery, kernel entry and state save before the ISR runs; Tsafrir, \"The " +
					"context-switch overhead inflicted by hardware interrupts\", ExpCS 2007, measured direct " +
					"interrupt costs of the order of a microsecond on 2007 CPUs; 0.3-1 us on current ones"},
			{IRQEOI, 100 * time.Nanosecond,
				"estimate: an x2APIC EOI is one MSR write (Intel SDM vol. 3, ch. 11, x2APIC), ~100 ns with the " +
					"return from interrupt; in a VM without APICv each EOI is a VM exit of 1-2 us (Gordon et al., " +
					"\"ELI: bare-metal performance for I/O virtualization\", ASPLOS 2012)"},
			{IPISend, 500 * time.Nanosecond,
				"estimate: KeInsertQueueDpc on another CPU sends an IPI (an ICR write) and takes the target's DPC " +
					"queue lock; IPI costs of 1-3 us end to end are reported for TLB shootdowns (Amit, \"Optimizing " +
					"the TLB shootdown algorithm with page access tracking\", USENIX ATC 2017); the sender's share ~0.5 us"},
			{IPIWake, 1500 * time.Nanosecond,
				"estimate: the target's share of the same IPI: delivery, interrupt entry and exit to dispatch level " +
					"before the DPC starts (Amit, USENIX ATC 2017: 1-3 us end to end)"},
			{PerPacket, 100 * time.Nanosecond,
				"estimate: descriptor to NBL and buffer recycle, a few cache misses; 10 GbE's 64 B line rate " +
					"(14.88 Mpps) leaves 67 ns a packet, which poll-mode drivers meet and interrupt-driven kernel " +
					"drivers do not (Rizzo, \"netmap: a novel framework for fast packet I/O\", USENIX ATC 2012); " +
					"at least 64-100 ns"},
			{RSSHash, 50 * time.Nanosecond,
				"estimate: a software Toeplitz hash of an IPv4 4-tuple (12 bytes, 96 key windows: Microsoft, " +
					"\"RSS hashing functions\", NDIS docs) takes ~100-300 cycles bit by bit, fewer table-driven"},
			{PerIndication, 0,
				"none injected: the stack above the miniport is outside the model; the checking stack's own " +
					"work stands in for it"},
		},
		Weak: "The PCIe read and the per-packet budget rest on measurements; interrupt entry, EOI, the IPI split " +
			"and the hash are estimates from older or indirect measurements. " + measureOwn,
	},
}

// Profiles returns every profile, zero first. The slice is the caller's.
func Profiles() []Profile {
	out := make([]Profile, len(profiles))
	for i, p := range profiles {
		out[i] = p
		out[i].Values = append([]Value(nil), p.Values...)
	}
	return out
}

// Names returns the profiles' names, in Profiles order.
func Names() []string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	return names
}

// Lookup returns the profile called name.
func Lookup(name string) (Profile, error) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("costs: no profile %q (profiles: %s)", name, strings.Join(Names(), ", "))
}
