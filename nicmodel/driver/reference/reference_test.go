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
