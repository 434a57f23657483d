package reference_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/driver"
	"github.com/ndisbench/ndisbench/nicmodel/driver/reference"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/nicmodel/traffic"
)

// gateMark is the MMIO read cost that marks the NIC's cause read to gateClock.
const gateMark = 1234 * time.Nanosecond

// gateClock is the real clock, except that one spin of gateMark (the line ISR's cause
// read, which the NIC spends as its MMIO cost just before it reads) stops, once armed,
// until the test has done what it wanted to do at that instant.
type gateClock struct {
	armed  atomic.Bool
	at     chan struct{} // the ISR reached its cause read
	resume chan struct{} // the test is done: read
}

func (g *gateClock) Now() int64 { return core.Clock{}.Now() }

func (g *gateClock) Spin(d time.Duration) {
	if d == gateMark && g.armed.CompareAndSwap(true, false) {
		g.at <- struct{}{}
		<-g.resume
		return
	}
	core.Clock{}.Spin(d)
}

// countStack counts what is indicated.
type countStack struct{ nbls atomic.Uint64 }

func (s *countStack) Indicate(_ int, nbls []core.NBL) { s.nbls.Add(uint64(len(nbls))) }

// TestLinePacketDuringTheISRIsNoSecondInterrupt: a packet that arrives while the line's
// ISR runs, just before it reads the cause register, is read by that ISR and causes no
// second interrupt, so the unshared line never hears "not mine". MINIPORT_ISR asks a line
// ISR to say whether its NIC interrupted; here it always did. The line is level-triggered
// (an assertion during the ISRs is no new edge to deliver), and the cause read masks the
// NIC (nicmodel.NIC.ReadCause), so nothing re-asserts it after the read either. Each of
// n rounds: a packet raises the line; its ISR, at its cause read, waits for the test to
// write a second packet; both are indicated by the one batch. The counts are exact.
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_isr
func TestLinePacketDuringTheISRIsNoSecondInterrupt(t *testing.T) {
	const rounds = 200
	gc := &gateClock{at: make(chan struct{}), resume: make(chan struct{})}
	clock := core.ClockOf(gc)
	p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 2, NoPin: true, MSI: core.NoMSI, Idle: core.IdleSpinPark,
		Spin: 5 * time.Microsecond, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	nic, err := nicmodel.New(nicmodel.Config{Queues: 2, Mode: nicmodel.ModeLine, MMIORead: gateMark, Clock: clock, WriteBack: 1})
	if err != nil {
		t.Fatal(err)
	}
	st := &countStack{}
	sc := scenario.Default()
	sc.Mode = nicmodel.ModeLine
	mp, err := reference.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := mp.Initialize(driver.NewNDIS(p, st), nic); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	defer mp.Halt()

	for i := 0; i < rounds; i++ {
		gc.armed.Store(true)
		nic.Receive(i%2, core.NBL{}, clock.Now()) // raises the line
		select {
		case <-gc.at:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: the line's ISR never reached its cause read", i)
		}
		nic.Receive((i+1)%2, core.NBL{}, clock.Now()) // during the ISR, before its read
		gc.resume <- struct{}{}
		want := uint64(2 * (i + 1))
		deadline := time.Now().Add(20 * time.Second)
		for st.nbls.Load() != want || !p.Idle() || nic.Masked(0) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: indicated %d of %d, idle %v, masked %v", i, st.nbls.Load(), want, p.Idle(), nic.Masked(0))
			}
			runtime.Gosched()
		}
	}
	c := p.Counters()
	for _, chk := range []struct {
		name string
		want uint64
	}{
		{"interrupts", rounds}, // one per round: the second packet's assertion delivered nothing
		{"isr_calls", rounds},
		{"not_mine", 0},
		{"self_spurious", 0},
		{"unclaimed", 0},
		{"batches", rounds},
		{"violations", 0},
	} {
		if c[chk.name] != chk.want {
			t.Errorf("%s = %d, want %d (counters %v)", chk.name, c[chk.name], chk.want, c)
		}
	}
}

// cpuStack records, per vCPU, the NBLs indicated there. Each vCPU appends to its own
// slice only; read them after the platform stopped.
type cpuStack struct {
	got   [][]core.NBL
	count atomic.Uint64
}

func (s *cpuStack) Indicate(cpu int, nbls []core.NBL) {
	s.got[cpu] = append(s.got[cpu], nbls...)
	s.count.Add(uint64(len(nbls)))
}

// rssRig is the reference miniport with driver-side RSS on a one-queue NIC over three
// vCPUs, the test goroutine as the wire. With MSI-X the queue's message, its ISR and the
// DPC that sorts run on vCPU 0; with a line routed to vCPU 1 the ISR runs there and the
// sorting DPC on vCPU 0, the queue's owner.
type rssRig struct {
	p      *core.Platform
	nic    *nicmodel.NIC
	st     *cpuStack
	mp     driver.Miniport
	flows  *traffic.Flows
	ind    *nicmodel.Indirection
	isrCPU int
}

func newRSSRig(t *testing.T, line bool) *rssRig {
	t.Helper()
	const vcpus = 3
	sc := scenario.Default()
	sc.RSS, sc.Queues, sc.VCPUs = scenario.RSSDriver, 1, vcpus
	cfg := core.PlatformConfig{VCPUs: vcpus, NoPin: true, MSI: core.MSIX, Messages: 1, Idle: core.IdleSpinPark, Spin: 5 * time.Microsecond}
	mode, isrCPU := nicmodel.ModeMSIX, 0
	if line {
		cfg.MSI, cfg.LineCPU = core.NoMSI, 1
		sc.Mode, mode, isrCPU = nicmodel.ModeLine, nicmodel.ModeLine, 1
	}
	p, err := core.NewPlatform(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nic, err := nicmodel.New(nicmodel.Config{Queues: 1, Mode: mode, RingSize: 1024, WriteBack: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := &rssRig{p: p, nic: nic, st: &cpuStack{got: make([][]core.NBL, vcpus)}, isrCPU: isrCPU}
	if r.mp, err = reference.New(sc); err != nil {
		t.Fatal(err)
	}
	if err := r.mp.Initialize(driver.NewNDIS(p, r.st), nic); err != nil {
		t.Fatal(err)
	}
	tz, err := nicmodel.NewToeplitz(sc.RSSKey)
	if err != nil {
		t.Fatal(err)
	}
	if r.flows, err = traffic.NewFlows(traffic.FlowConfig{Count: 64, Seed: 3}, tz); err != nil {
		t.Fatal(err)
	}
	if r.ind, err = nicmodel.NewIndirection(sc.IndirectionEntries, vcpus); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// send writes nbls one by one, as the wire, waits until every one is indicated, and
// stops the platform, so that the stack's records can be read.
func (r *rssRig) send(t *testing.T, nbls []core.NBL) {
	t.Helper()
	for i := range nbls {
		for !r.nic.Receive(0, nbls[i], 0) { // no free buffer: wait for the stack to return one
			runtime.Gosched()
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for r.st.count.Load() != uint64(len(nbls)) || !r.p.Idle() {
		if time.Now().After(deadline) {
			t.Fatalf("indicated %d of %d", r.st.count.Load(), len(nbls))
		}
		runtime.Gosched()
	}
	r.mp.Halt()
	r.p.Stop()
	if v := r.p.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestDriverRSSHashesTheTupleInTheDPC: with driver-side RSS the NIC does not hash, and
// the DPC computes each packet's Toeplitz hash over the 4-tuple its headers hold, then
// looks its CPU up in the indirection table (R10). MINIPORT_INTERRUPT_DPC: "The NIC could
// have already queued received packets on separate queues based on hash values, if the
// NIC provides such capabilities. Otherwise, the miniport driver can sort the packets
// into separate queues in MiniportInterruptDPC." Each packet here carries a hash value
// that is wrong (and not marked as computed): only a DPC that hashes the tuple itself
// puts every flow on its CPU.
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_interrupt_dpc
func TestDriverRSSHashesTheTupleInTheDPC(t *testing.T) {
	r := newRSSRig(t, false)
	var nbls []core.NBL
	misleads := 0
	for rep := 0; rep < 4; rep++ {
		for f := 0; f < r.flows.Len(); f++ {
			wrong := ^r.flows.Hash(f)
			if r.ind.Lookup(wrong) != r.ind.Lookup(r.flows.Hash(f)) {
				misleads++
			}
			nbls = append(nbls, core.NBL{IPv4: true, Tuple: r.flows.Input(f), Hash: wrong})
		}
	}
	if misleads == 0 {
		t.Fatal("no wrong hash maps to another CPU: the test would prove nothing")
	}
	r.send(t, nbls)
	r.checkSpread(t, len(nbls))
}

// checkSpread checks that each IPv4 packet was indicated on the CPU its tuple hashes to,
// each other one on the ISR's CPU, and that all n were.
func (r *rssRig) checkSpread(t *testing.T, n int) {
	t.Helper()
	flowOf := map[[nicmodel.FlowTupleLen]byte]int{}
	for f := 0; f < r.flows.Len(); f++ {
		flowOf[r.flows.Input(f)] = f
	}
	total := 0
	for cpu, got := range r.st.got {
		for _, nbl := range got {
			total++
			if !nbl.IPv4 {
				if cpu != r.isrCPU {
					t.Errorf("a packet RSS cannot hash was indicated on vCPU %d, not on the ISR's vCPU %d", cpu, r.isrCPU)
				}
				continue
			}
			f, ok := flowOf[nbl.Tuple]
			if !ok {
				t.Fatalf("vCPU %d indicated a packet of no flow: %v", cpu, nbl.Tuple)
			}
			if want := r.ind.Lookup(r.flows.Hash(f)); cpu != want {
				t.Errorf("flow %d indicated on vCPU %d, its hash says %d", f, cpu, want)
			}
		}
	}
	if total != n {
		t.Errorf("%d packets indicated, want %d", total, n)
	}
}

// TestDriverRSSIndicatesNonIPOnTheISRsCPU: packets RSS cannot hash (not IPv4: no
// 4-tuple) are indicated by the DPC on the CPU the ISR ran on, the others on the CPUs
// their hashes pick. MINIPORT_INTERRUPT_DPC: "If the current DPC is running on the same
// CPU as the MiniportInterrupt function, the miniport driver should indicate all the
// packets that could not be mapped to a CPU." With MSI-X the sorting DPC runs on the
// ISR's CPU and keeps them; with the line routed to vCPU 1 it runs on vCPU 0 and hands
// them to a DPC it queues on vCPU 1.
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_interrupt_dpc
func TestDriverRSSIndicatesNonIPOnTheISRsCPU(t *testing.T) {
	for _, line := range []bool{false, true} {
		name := "msix"
		if line {
			name = "line"
		}
		t.Run(name, func(t *testing.T) {
			r := newRSSRig(t, line)
			var nbls []core.NBL
			for i := 0; i < 400; i++ {
				nbl := core.NBL{Size: 60} // an ARP request, say: no IPv4 4-tuple
				if i%3 != 0 {
					f := i % r.flows.Len()
					nbl = core.NBL{IPv4: true, Tuple: r.flows.Input(f)}
				}
				nbls = append(nbls, nbl)
			}
			r.send(t, nbls)
			r.checkSpread(t, len(nbls))
			elsewhere := 0
			for cpu, got := range r.st.got {
				if cpu != r.isrCPU {
					elsewhere += len(got)
				}
			}
			if elsewhere == 0 {
				t.Error("every packet was indicated on the ISR's CPU: the hashed ones were never spread")
			}
		})
	}
}
