package harness_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/driver"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// The run's checker tested in the failing direction (DESIGN.md §5): a miniport with one
// deliberate flaw, run through the ordinary run API, must fail with the invariant the
// flaw breaks named. The miniport is minimal's, with a flaw selector; each flaw fires
// once, on a trigger that does not depend on timing.

// flaw is one deliberate bug of the flawed miniport.
type flaw int

const (
	flawNone              flaw = iota
	flawDrop                   // the 50th packet taken: its buffer returned, never indicated
	flawDuplicate              // the 50th packet taken: indicated twice
	flawReorder                // the first indication of 2 or more: its first two swapped
	flawNoEnable               // the first DPC that ends a batch: leaves interrupts disabled
	flawOverThrottle           // the first DPC that stops at the throttle: indicates one more
	flawEnableMorePending      // the first DPC: re-enables interrupts and sets MorePending
	flawNotMine                // the first message ISR: says "not mine" (and still does its work)
	flawNoDeregister           // Halt: does not deregister
	flawClaimNoDPC             // the first line ISR that claims: queues no DPC (its cause read masked the NIC)
)

// flawAt is the packet flawDrop and flawDuplicate spoil: the 50th taken, whichever queue.
const flawAt = 50

// flawed is minimal.Miniport with a flaw.
type flawed struct {
	flaw   flaw
	fired  atomic.Bool   // the flaw happened (once)
	taken  atomic.Uint64 // descriptors taken, over every queue
	nic    *nicmodel.NIC
	ix     driver.Interrupt
	queues [][]int
	buf    [][]driver.NBL
}

var _ driver.Miniport = (*flawed)(nil)

// fire reports whether the flaw is f and has not fired yet, and marks it fired.
func (m *flawed) fire(f flaw) bool { return m.flaw == f && m.fired.CompareAndSwap(false, true) }

func (m *flawed) Initialize(fw driver.Framework, nic *nicmodel.NIC) error {
	ix, err := fw.RegisterInterrupt(m, driver.InterruptCharacteristics{
		ISR:            m.lineISR,
		DPC:            func(_ any, c *driver.DPCCall) { m.dpc(0, c) },
		Disable:        func(any) { nic.Mask(0) },
		Enable:         func(any) { nic.Unmask(0) },
		MSISupported:   true,
		MessageISR:     m.messageISR,
		MessageDPC:     func(_ any, msg driver.MessageID, c *driver.DPCCall) { m.dpc(msg, c) },
		DisableMessage: func(_ any, msg driver.MessageID) { nic.Mask(int(msg)) },
		EnableMessage:  func(_ any, msg driver.MessageID) { nic.Unmask(int(msg)) },
	})
	if err != nil {
		return err
	}
	if err := driver.Connect(fw, ix, nic); err != nil {
		ix.Deregister()
		return err
	}
	m.nic, m.ix = nic, ix
	m.queues = make([][]int, ix.Messages())
	for q := 0; q < nic.Queues(); q++ {
		msg := 0
		if ix.Type() == driver.MessageBased {
			msg = nic.VectorOf(q)
		}
		m.queues[msg] = append(m.queues[msg], q)
	}
	for c := 0; c < fw.VCPUs(); c++ {
		m.buf = append(m.buf, make([]driver.NBL, 64))
	}
	return nil
}

func (m *flawed) Halt() {
	if m.fire(flawNoDeregister) {
		return
	}
	m.ix.Deregister()
}

func (m *flawed) lineISR(any) driver.ISRResult {
	if m.nic.ReadCause() == 0 { // the read masks the NIC when it reports causes
		return driver.ISRResult{}
	}
	if m.fire(flawClaimNoDPC) {
		return driver.ISRResult{Recognized: true} // claimed and masked, with no DPC to re-enable
	}
	return driver.ISRResult{Recognized: true, QueueDefaultDPC: true}
}

func (m *flawed) messageISR(_ any, msg driver.MessageID) driver.ISRResult {
	if m.nic.Masked(int(msg)) {
		return driver.ISRResult{Recognized: true}
	}
	m.nic.Mask(int(msg))
	// Not mine, and yet masked with its DPC queued: R3 is the only thing broken.
	return driver.ISRResult{Recognized: !m.fire(flawNotMine), QueueDefaultDPC: true}
}

func (m *flawed) dpc(msg driver.MessageID, c *driver.DPCCall) {
	buf, left := m.buf[c.CPU], c.Throttle.MaxNBLs
	last := -1 // the queue that stopped at the throttle
	for _, q := range m.queues[msg] {
		for left > 0 {
			n := m.nic.Take(q, buf[:min(len(buf), left)])
			if n == 0 {
				break
			}
			m.indicate(c, q, buf[:n])
			left -= n
			last = q
		}
	}
	if left == 0 && last >= 0 && m.nic.Pending(last) > 0 && m.fire(flawOverThrottle) {
		n := m.nic.Take(last, buf[:1]) // one past the limit (R8)
		m.indicate(c, last, buf[:n])
	}
	for _, q := range m.queues[msg] {
		if left == 0 && m.nic.Pending(q) > 0 {
			c.Throttle.MorePending = true
			return
		}
	}
	if m.fire(flawEnableMorePending) {
		c.Throttle.MorePending = true // and then re-enable (R8)
	}
	if m.fire(flawNoEnable) {
		return // the batch ends with interrupts disabled (R9)
	}
	m.nic.Unmask(int(msg))
}

// indicate indicates nbls, taken from queue q, and returns their buffers, with the
// flaws that spoil an indication.
func (m *flawed) indicate(c *driver.DPCCall, q int, nbls []driver.NBL) {
	n := uint64(len(nbls))
	end := m.taken.Add(n)
	spoilt := -1 // index of the flawAt-th packet taken, if in nbls
	if end >= flawAt && end-n < flawAt {
		spoilt = int(flawAt - 1 - (end - n))
	}
	switch {
	case spoilt >= 0 && m.fire(flawDrop):
		c.Indicate(nbls[:spoilt])
		c.Indicate(nbls[spoilt+1:])
	case spoilt >= 0 && m.fire(flawDuplicate):
		c.Indicate(nbls)
		c.Indicate(nbls[spoilt : spoilt+1])
	case len(nbls) >= 2 && m.fire(flawReorder):
		nbls[0], nbls[1] = nbls[1], nbls[0]
		c.Indicate(nbls)
	default:
		c.Indicate(nbls)
	}
	for _, nbl := range nbls {
		m.nic.Return(q, nbl.Buf)
	}
}

// TestBrokenDriversFail: every flaw fails its run with the invariant it breaks, and the
// same miniport without a flaw passes.
func TestBrokenDriversFail(t *testing.T) {
	for _, tt := range []struct {
		name string
		flaw flaw
		edit func(*scenario.Scenario)
		want string   // the invariant that must be named ("": none may be)
		also []string // others the flaw breaks too, as a consequence
		says []string // what the failures' details must say, beyond naming the invariant
	}{
		// The control: the test miniport as it is passes, so the flaws below are what
		// break their runs; through a line too.
		{"no flaw", flawNone, nil, "", nil, nil},
		{"no flaw, line", flawNone, lineMode, "", nil, nil},
		// A packet taken and its buffer returned, never indicated: counts do not add
		// up, and it never drains.
		{"drops a packet", flawDrop, nil, "conservation", []string{"drain"}, nil},
		// One NBL indicated twice: out of order in its stream, one too many.
		{"indicates twice", flawDuplicate, nil, "order", []string{"conservation", "drain"}, nil},
		// Two NBLs of one queue swapped in one indication; moderation makes batches.
		{"reorders a queue", flawReorder, moderate, "order", nil, nil},
		// A batch that ends masked: the framework sees it (R9), and the vector's queues
		// never drain.
		{"never re-enables", flawNoEnable, nil, "R9", []string{"drain", "conservation"}, nil},
		// Throttle 4, interrupts moderated to 32 packets so that DPCs stop at the
		// throttle: one of them indicates a fifth.
		{"indicates past the throttle", flawOverThrottle, func(sc *scenario.Scenario) { moderate(sc); sc.Throttle = 4 }, "R8", nil, nil},
		// Re-enabling in a call that says more is pending.
		{"enables with more pending", flawEnableMorePending, nil, "R8", nil, nil},
		// A message ISR saying "not mine": messages are never shared.
		{"message ISR not mine", flawNotMine, nil, "R3", nil, nil},
		// Halt leaves the interrupt registered: the run sees it still registered, and the
		// stray interrupt it sends after Halt runs the driver's handlers.
		{"halt does not deregister", flawNoDeregister, nil, "R11", nil, []string{"still registered", "ran after Halt returned"}},
		// A line ISR claims and asks for no DPC. Its cause read masked the NIC (which
		// auto-masks), so nothing re-enables it: the batch ends masked (R9), and the
		// line's queues never drain.
		{"line ISR claims without a DPC", flawClaimNoDPC, lineMode, "R9", []string{"drain", "conservation"}, []string{"masked"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := testScenario(nicmodel.ModeMSIX)
			if slices.Contains(tt.also, "drain") {
				// It can never drain: give up in 0.3s, not 10s. The others keep the
				// default, as a slow machine may take a while to catch up.
				sc.DrainTimeout = 300 * time.Millisecond
			}
			if tt.edit != nil {
				tt.edit(&sc)
			}
			var m *flawed
			factory := func(scenario.Scenario) (driver.Miniport, error) {
				m = &flawed{flaw: tt.flaw}
				return m, nil
			}
			// A trigger that waits for a batch may find none in a short run on a slow
			// machine: run longer until the flaw fired, rather than pass without it.
			var rep *harness.Report
			var err error
			for try := 0; ; try++ {
				rep, err = harness.Run(context.Background(), sc, harness.Options{Driver: driver.Info{Name: "flawed", New: factory}})
				if rep == nil {
					t.Fatalf("Run: no report: %v", err)
				}
				if tt.flaw == flawNone || m.fired.Load() {
					break
				}
				if try == 3 {
					t.Fatalf("the flaw never fired in a %v run: %v", sc.Duration, rep.Counters)
				}
				t.Logf("the flaw did not fire in a %v run; doubling it", sc.Duration)
				sc.Duration *= 2
			}
			t.Logf("broken: %q", rep.Broken)
			if tt.want == "" {
				if err != nil || len(rep.Broken) != 0 {
					t.Fatalf("the test miniport without a flaw failed: %v", err)
				}
				return
			}
			if !errors.Is(err, harness.ErrInvariant) {
				t.Errorf("err = %v, want errors.Is ErrInvariant", err)
			}
			if !rep.Broke(tt.want) {
				t.Errorf("%s is not among the broken invariants %q", tt.want, rep.Broken)
			}
			for _, want := range tt.says {
				if !strings.Contains(fmt.Sprint(rep.Broken), want) {
					t.Errorf("no failure says %q: %q", want, rep.Broken)
				}
			}
			if rep.Scenario.Driver != "flawed" {
				t.Errorf("the report names driver %q, not the one that ran", rep.Scenario.Driver)
			}
			for _, f := range rep.Broken {
				if f.Detail == "" {
					t.Errorf("failure %q says nothing", f.Invariant)
				}
				if f.Invariant != tt.want && !slices.Contains(tt.also, f.Invariant) {
					t.Errorf("%s broken too: %v", f.Invariant, f)
				}
			}
		})
	}
}

// lineMode runs through a line-based interrupt.
func lineMode(sc *scenario.Scenario) { sc.Mode = nicmodel.ModeLine }

// moderate makes every interrupt come with packets waiting: batches of more than one.
func moderate(sc *scenario.Scenario) {
	sc.ModerationPackets = 32
	sc.ModerationInterval = 50 * time.Microsecond
}
