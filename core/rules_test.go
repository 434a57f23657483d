package core_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
)

func TestR1_RegistrationRejectsMalformedCharacteristics(t *testing.T) {
	p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 1, NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	valid := func() core.InterruptCharacteristics {
		return msiChars(func(any, core.MessageID) core.ISRResult { return core.ISRResult{Recognized: true} },
			func(any, core.MessageID, *core.DPCCall) {})
	}
	tests := []struct {
		name  string
		edit  func(c *core.InterruptCharacteristics)
		field string // the field the error must name; "" for success
	}{
		// A complete MSI-capable value registers.
		{"valid msi", func(c *core.InterruptCharacteristics) {}, ""},
		// A complete line-only value registers.
		{"valid line only", func(c *core.InterruptCharacteristics) {
			c.MSISupported = false
			c.MessageISR, c.MessageDPC, c.DisableMessage, c.EnableMessage = nil, nil, nil, nil
		}, ""},
		// Each line-based handler is required, MSI or not.
		{"no ISR", func(c *core.InterruptCharacteristics) { c.ISR = nil }, "ISR"},
		{"no DPC", func(c *core.InterruptCharacteristics) { c.DPC = nil }, "DPC"},
		{"no Disable", func(c *core.InterruptCharacteristics) { c.Disable = nil }, "Disable"},
		{"no Enable", func(c *core.InterruptCharacteristics) { c.Enable = nil }, "Enable"},
		// With MSISupported, each message handler is required.
		{"no MessageISR", func(c *core.InterruptCharacteristics) { c.MessageISR = nil }, "MessageISR"},
		{"no MessageDPC", func(c *core.InterruptCharacteristics) { c.MessageDPC = nil }, "MessageDPC"},
		{"no DisableMessage", func(c *core.InterruptCharacteristics) { c.DisableMessage = nil }, "DisableMessage"},
		{"no EnableMessage", func(c *core.InterruptCharacteristics) { c.EnableMessage = nil }, "EnableMessage"},
		// Without MSISupported, message handlers must be nil.
		{"message handler without MSI", func(c *core.InterruptCharacteristics) { c.MSISupported = false }, "MessageISR"},
		{"message DPC without MSI", func(c *core.InterruptCharacteristics) {
			c.MSISupported = false
			c.MessageISR = nil
		}, "MessageDPC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(&c)
			ix, err := p.RegisterInterrupt(nil, c, nil)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("RegisterInterrupt: %v", err)
				}
				ix.Deregister()
				return
			}
			if err == nil {
				t.Fatalf("RegisterInterrupt accepted a value without %s", tt.field)
			}
			if !errors.Is(err, core.ErrCharacteristics) {
				t.Errorf("error %v is not ErrCharacteristics", err)
			}
			var fe *core.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("error %q names field %v, want %s", err, fe, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
}

func TestR2_GrantFollowsPlatform(t *testing.T) {
	msi := msiChars(func(any, core.MessageID) core.ISRResult { return core.ISRResult{Recognized: true} },
		func(any, core.MessageID, *core.DPCCall) {})
	line := lineChars(func(any) core.ISRResult { return core.ISRResult{} }, func(any, *core.DPCCall) {})
	tests := []struct {
		name     string
		mode     core.MSIMode
		messages int
		chars    core.InterruptCharacteristics
		want     core.InterruptType
		entries  int
	}{
		// MSI-X: one message per offered vector, spread over the vCPUs.
		{"msix", core.MSIX, 4, msi, core.MessageBased, 4},
		// MSI: a single message.
		{"msi", core.MSI, 4, msi, core.MessageBased, 1},
		// No MSI on the platform: the MSI-capable driver gets a line and no table.
		{"none", core.NoMSI, 4, msi, core.LineBased, 0},
		// The platform refuses MSI: the fallback a driver must look for.
		{"refused", core.RefuseMSI, 4, msi, core.LineBased, 0},
		// A line-only driver on an MSI-X platform gets a line.
		{"line-only driver", core.MSIX, 4, line, core.LineBased, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 2, NoPin: true, MSI: tt.mode, Messages: tt.messages, LineCPU: 1})
			if err != nil {
				t.Fatal(err)
			}
			ix := mustRegister(t, p, nil, tt.chars, nil)
			if ix.Type() != tt.want {
				t.Fatalf("granted %v, want %v", ix.Type(), tt.want)
			}
			table := ix.MessageTable()
			if len(table) != tt.entries {
				t.Fatalf("message table has %d entries, want %d", len(table), tt.entries)
			}
			if tt.want == core.LineBased && table != nil {
				t.Fatal("a line grant has a message table")
			}
			vectors := map[core.Vector]bool{}
			for i, m := range table {
				if m.ID != core.MessageID(i) {
					t.Errorf("entry %d has id %d", i, m.ID)
				}
				wantCPU := i % 2
				if tt.mode == core.MSI {
					wantCPU = 1 // LineCPU
				}
				if m.TargetCPUs != core.CPUs(wantCPU) {
					t.Errorf("message %d targets %v, want {%d}", i, m.TargetCPUs, wantCPU)
				}
				if vectors[m.Vector] {
					t.Errorf("message %d reuses vector %d", i, m.Vector)
				}
				vectors[m.Vector] = true
			}
			// The table is read-only: changing the copy changes nothing.
			if len(table) > 0 {
				table[0].TargetCPUs = 0
				if ix.MessageTable()[0].TargetCPUs == 0 {
					t.Error("MessageTable returned the grant's own table")
				}
			}
		})
	}
}

// lineDevice is a scripted device on the shared line: a cause register that its ISR
// reads and clears, as R3 requires.
type lineDevice struct {
	src     *core.LineSource
	ix      *core.Interrupt
	cause   atomic.Uint32
	raised  atomic.Uint64
	claimed atomic.Uint64
	dpcs    atomic.Uint64
}

func (d *lineDevice) raise() {
	d.raised.Add(1)
	d.cause.Or(1)
	d.src.Assert()
}

func (d *lineDevice) isr(any) core.ISRResult {
	c := d.cause.Swap(0) // read-to-clear, which drops the assertion...
	d.src.Deassert()
	if d.cause.Load() != 0 {
		d.src.Assert() // ...unless the device raised again since: level-triggered
	}
	if c == 0 {
		return core.ISRResult{} // not mine
	}
	d.claimed.Add(1)
	return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
}

func (d *lineDevice) dpc(_ any, call *core.DPCCall) {
	if call.Context != nil {
		panic("R7: an ISR-queued DPC got a context")
	}
	d.dpcs.Add(1)
}

func newLineDevice(t *testing.T, p *core.Platform) *lineDevice {
	d := &lineDevice{}
	src, err := p.NewLineSource()
	if err != nil {
		t.Fatal(err)
	}
	d.src = src
	d.ix = mustRegister(t, p, d, lineChars(d.isr, d.dpc), nil)
	return d
}

func TestR3_SharedLineRunsSharersUntilOneClaims(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 2, MSI: core.NoMSI})
	nic := newLineDevice(t, p)   // first in the chain
	noisy := newLineDevice(t, p) // shares the line
	const n = 2000
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			noisy.raise()
			if i%8 == 0 {
				time.Sleep(time.Microsecond)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < n/4; i++ {
			nic.raise()
			time.Sleep(2 * time.Microsecond)
		}
	}()
	wg.Wait()
	// Level-triggered: every device whose cause is set keeps the line up until its ISR
	// ran, so no device's interrupt is lost, however the raises interleave.
	waitFor(t, "both devices served", func() bool {
		return nic.cause.Load() == 0 && noisy.cause.Load() == 0 && p.Idle()
	})
	if nic.claimed.Load() == 0 || noisy.claimed.Load() == 0 {
		t.Fatalf("claims: nic %d, noisy %d; both must be served", nic.claimed.Load(), noisy.claimed.Load())
	}
	// The NIC is first in the chain, so every interrupt of the noisy device that found the
	// NIC's cause register clear made the NIC say "not mine".
	if nic.ix.NotMine() == 0 {
		t.Error("the NIC's ISR never said not mine, though the noisy device raised the shared line")
	}
	if nic.dpcs.Load() != nic.claimed.Load() && nic.dpcs.Load() > nic.claimed.Load() {
		t.Errorf("nic ran %d DPCs for %d claims", nic.dpcs.Load(), nic.claimed.Load())
	}
	if v := p.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
	// An assertion nobody owns is counted as unclaimed, not dropped silently.
	before := p.Counter(core.CtrUnclaimed)
	ghost, _ := p.NewLineSource()
	ghost.Assert()
	waitFor(t, "unclaimed interrupt counted", func() bool { return p.Counter(core.CtrUnclaimed) > before })
	ghost.Deassert()
}

func TestR3_MessageISRNotMineIsViolation(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 1, MSI: core.MSIX})
	ix := mustRegister(t, p, nil, msiChars(
		func(any, core.MessageID) core.ISRResult { return core.ISRResult{Recognized: false} },
		func(any, core.MessageID, *core.DPCCall) {}), nil)
	p.Raise(ix.MessageTable()[0].Vector)
	waitFor(t, "violation counted", func() bool { return ix.Violations() == 1 })
	if v := p.Violations(); len(v) != 1 || !strings.Contains(v[0].String(), "R3") {
		t.Errorf("violations = %q, want one R3 violation", v)
	}
}

// TestR4_ISRQueuesDefaultAndTargetDPCs: an ISR's target set queues one DPC on each CPU
// in it, the ISR's own included, each with a nil context (R7); the message ISR is told
// which message fired. (MINIPORT_MESSAGE_INTERRUPT, TargetProcessors:
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_message_interrupt)
func TestR4_ISRQueuesDefaultAndTargetDPCs(t *testing.T) {
	n := vcpus(4)
	p := newPlatform(t, core.PlatformConfig{VCPUs: n, MSI: core.MSIX, Messages: 1})
	var ran [64]atomic.Int32
	var nonNil atomic.Int32
	var msgSeen atomic.Int32
	ix := mustRegister(t, p, nil, msiChars(
		func(_ any, msg core.MessageID) core.ISRResult {
			msgSeen.Store(int32(msg) + 1)
			// A DPC on every vCPU, this one (0) included.
			return core.ISRResult{Recognized: true, TargetCPUs: core.CPUSet(1<<uint(n) - 1)}
		},
		func(_ any, _ core.MessageID, call *core.DPCCall) {
			ran[call.CPU].Add(1)
			if call.Context != nil {
				nonNil.Add(1)
			}
		}), nil)
	p.Raise(ix.MessageTable()[0].Vector)
	waitFor(t, "every target ran", func() bool {
		for i := 0; i < n; i++ {
			if ran[i].Load() == 0 {
				return false
			}
		}
		return true
	})
	waitFor(t, "idle", p.Idle)
	for i := 0; i < n; i++ {
		if got := ran[i].Load(); got != 1 {
			t.Errorf("vCPU %d ran the DPC %d times, want 1", i, got)
		}
	}
	if msgSeen.Load() != 1 {
		t.Errorf("message ISR was told message %d, want 0", msgSeen.Load()-1)
	}
	if nonNil.Load() != 0 {
		t.Errorf("R7: %d ISR-targeted DPCs got a non-nil context", nonNil.Load())
	}
}

// TestR4_DefaultDPCIgnoresTargetCPUs: an ISR that asks for the default DPC gets one on
// its own CPU and none on the CPUs of its target set. MINIPORT_ISR and
// MINIPORT_MESSAGE_INTERRUPT: "If this value is set to TRUE, NDIS ignores the value of the
// TargetProcessors parameter."
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_isr
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_message_interrupt
func TestR4_DefaultDPCIgnoresTargetCPUs(t *testing.T) {
	for _, line := range []bool{false, true} {
		name := "message"
		if line {
			name = "line"
		}
		t.Run(name, func(t *testing.T) {
			cfg := core.PlatformConfig{VCPUs: 3, NoPin: true, MSI: core.MSIX, Messages: 1, LineCPU: 1}
			if line {
				cfg.MSI = core.NoMSI
			}
			p := newPlatform(t, cfg)
			var ran [3]atomic.Int32
			res := core.ISRResult{Recognized: true, QueueDefaultDPC: true, TargetCPUs: core.CPUs(0, 1, 2)}
			dpc := func(cpu int) { ran[cpu].Add(1) }
			var raise func()
			if line {
				src, err := p.NewLineSource()
				if err != nil {
					t.Fatal(err)
				}
				mustRegister(t, p, nil, lineChars(
					func(any) core.ISRResult { src.Deassert(); return res },
					func(_ any, c *core.DPCCall) { dpc(c.CPU) }), nil)
				raise = src.Assert
			} else {
				ix := mustRegister(t, p, nil, msiChars(
					func(any, core.MessageID) core.ISRResult { return res },
					func(_ any, _ core.MessageID, c *core.DPCCall) { dpc(c.CPU) }), nil)
				raise = func() { p.Raise(ix.MessageTable()[0].Vector) }
			}
			isrCPU := 0 // message 0 of MSI-X targets vCPU 0
			if line {
				isrCPU = 1 // LineCPU
			}
			raise()
			waitFor(t, "the DPC", func() bool { return ran[isrCPU].Load() == 1 })
			waitFor(t, "idle", p.Idle)
			for cpu := range ran {
				want := int32(0)
				if cpu == isrCPU {
					want = 1
				}
				if got := ran[cpu].Load(); got != want {
					t.Errorf("vCPU %d ran %d DPCs, want %d: only the ISR's CPU, the target set ignored", cpu, got, want)
				}
			}
		})
	}
}

// TestR4_NotMineLineISRStillGetsItsDPCs: a line ISR that says "not mine" and asks for
// DPCs gets them, on its CPU or its targets: MINIPORT_ISR, "NDIS will schedule a DPC
// regardless of the return value from MiniportInterrupt", and its return value: "NDIS
// will queue DPCs based on the values specified in the QueueDefaultInterruptDpc and
// TargetProcessors parameters, regardless of the value that MiniportInterrupt returns".
// The line still counts as not claimed.
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_isr
func TestR4_NotMineLineISRStillGetsItsDPCs(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  core.ISRResult
		want [2]int32 // DPCs per vCPU
	}{
		// The default DPC runs on the line's CPU, 0.
		{"default", core.ISRResult{QueueDefaultDPC: true}, [2]int32{1, 0}},
		// The target set puts it on vCPU 1.
		{"targets", core.ISRResult{TargetCPUs: core.CPUs(1)}, [2]int32{0, 1}},
		// Neither: no DPC, nothing queued.
		{"none", core.ISRResult{}, [2]int32{0, 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlatform(t, core.PlatformConfig{VCPUs: 2, NoPin: true, MSI: core.NoMSI})
			src, err := p.NewLineSource()
			if err != nil {
				t.Fatal(err)
			}
			var ran [2]atomic.Int32
			var isrs atomic.Int32
			ix := mustRegister(t, p, nil, lineChars(
				func(any) core.ISRResult { src.Deassert(); isrs.Add(1); return tt.res }, // not mine (Recognized false)
				func(_ any, c *core.DPCCall) { ran[c.CPU].Add(1) }), nil)
			src.Assert()
			waitFor(t, "the ISR", func() bool { return isrs.Load() == 1 })
			waitFor(t, "idle", func() bool {
				return p.Idle() && ran[0].Load()+ran[1].Load() == tt.want[0]+tt.want[1]
			})
			for cpu := range ran {
				if got := ran[cpu].Load(); got != tt.want[cpu] {
					t.Errorf("vCPU %d ran %d DPCs, want %d", cpu, got, tt.want[cpu])
				}
			}
			// The ISR dropped the line it did not claim: counted apart from an assertion
			// nobody serves (unclaimed), but not claimed either way.
			if ix.NotMine() != 1 || p.Counter(core.CtrSelfSpurious) != 1 || p.Counter(core.CtrUnclaimed) != 0 {
				t.Errorf("not mine %d, self-spurious %d, unclaimed %d; want 1, 1, 0: queueing DPCs does not claim the line",
					ix.NotMine(), p.Counter(core.CtrSelfSpurious), p.Counter(core.CtrUnclaimed))
			}
			if v := p.Violations(); len(v) != 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

// gate is a DPC that blocks its vCPU until released, to hold a DPC object queued.
type gate struct {
	entered atomic.Bool
	release atomic.Bool
}

func (g *gate) wait() {
	g.entered.Store(true)
	for !g.release.Load() {
		time.Sleep(time.Microsecond) // the test's own gate; a real DPC must never block
	}
}

func TestR6_QueueDPCDedupesAndReturnsNewlyQueuedCPUs(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 2, MSI: core.MSIX, Messages: 2})
	var g gate
	type key struct {
		msg core.MessageID
		cpu int
	}
	var mu sync.Mutex
	runs := map[key]int{}
	ix := mustRegister(t, p, nil, msiChars(
		func(any, core.MessageID) core.ISRResult { return core.ISRResult{Recognized: true} },
		func(ctx any, msg core.MessageID, call *core.DPCCall) {
			if ctx := call.Context; ctx == "block" {
				g.wait()
			}
			mu.Lock()
			runs[key{msg, call.CPU}]++
			mu.Unlock()
		}), nil)

	// Occupy vCPU 1 with message 1's DPC so that what we queue next stays queued.
	if got := ix.QueueDPC(1, core.CPUs(1), "block"); got != core.CPUs(1) {
		t.Fatalf("QueueDPC(block) = %v, want {1}", got)
	}
	waitFor(t, "blocking DPC running", g.entered.Load)

	// (message 0, vCPU 1) is queued behind it; (message 0, vCPU 0) runs at once.
	if got := ix.QueueDPC(0, core.CPUs(0, 1), "a"); got != core.CPUs(0, 1) {
		t.Fatalf("first QueueDPC = %v, want {0,1}", got)
	}
	waitFor(t, "vCPU 0's DPC ran", func() bool { mu.Lock(); defer mu.Unlock(); return runs[key{0, 0}] == 1 })
	// Queueing the same object again is a no-op: only vCPU 0 is newly queued.
	if got := ix.QueueDPC(0, core.CPUs(0, 1), "b"); got != core.CPUs(0) {
		t.Fatalf("second QueueDPC = %v, want {0} (vCPU 1's object is still queued)", got)
	}
	// (message 1, vCPU 1) is running, not queued, so it can be queued again; and it is a
	// distinct object from (message 0, vCPU 1), which is still queued on the same CPU
	// (the NDIS 6.1 guarantee: different messages on one CPU are queued separately).
	if got := ix.QueueDPC(1, core.CPUs(1), "c"); got != core.CPUs(1) {
		t.Fatalf("QueueDPC(message 1) = %v, want {1}", got)
	}
	g.release.Store(true)
	waitFor(t, "all DPCs ran", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return runs[key{0, 0}] == 2 && runs[key{0, 1}] == 1 && runs[key{1, 1}] == 2
	})
	waitFor(t, "idle", p.Idle)
	mu.Lock()
	defer mu.Unlock()
	if runs[key{0, 1}] != 1 {
		t.Errorf("(message 0, vCPU 1) ran %d times; the duplicate queue must not run it twice", runs[key{0, 1}])
	}
}

func TestR7_DPCContextNilFromISRCallersFromQueueDPC(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 2, MSI: core.MSIX, Messages: 1})
	ctxs := make(chan any, 4)
	ix := mustRegister(t, p, nil, msiChars(
		func(any, core.MessageID) core.ISRResult {
			return core.ISRResult{Recognized: true, TargetCPUs: core.CPUs(1)}
		},
		func(_ any, _ core.MessageID, call *core.DPCCall) { ctxs <- call.Context }), nil)
	p.Raise(ix.MessageTable()[0].Vector)
	if got := <-ctxs; got != nil {
		t.Errorf("ISR-targeted DPC context = %v, want nil", got)
	}
	type mine struct{ n int }
	want := &mine{42}
	ix.QueueDPC(0, core.CPUs(1), want)
	if got := <-ctxs; got != want {
		t.Errorf("QueueDPC context = %v, want the caller's %v", got, want)
	}
}

// throttledDevice holds n packets and indicates them under the throttle, masking in its
// ISR and unmasking in the last DPC, as R8 and R9 describe.
type throttledDevice struct {
	ix        *core.Interrupt
	left      atomic.Int64
	masked    atomic.Bool
	enables   atomic.Int32
	calls     atomic.Int32
	cpus      sync.Map // CPUs the DPC ran on
	maxInCall atomic.Int32
	maskedOK  atomic.Bool // every call after the first found interrupts still masked
}

func (d *throttledDevice) chars() core.InterruptCharacteristics {
	c := msiChars(
		func(any, core.MessageID) core.ISRResult {
			d.masked.Store(true)
			maskDevice(d.ix, 0)
			return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
		},
		func(_ any, _ core.MessageID, call *core.DPCCall) {
			if !d.masked.Load() {
				d.maskedOK.Store(false)
			}
			d.calls.Add(1)
			d.cpus.Store(call.CPU, true)
			n := int64(call.Throttle.MaxNBLs)
			if left := d.left.Load(); left < n {
				n = left
			}
			call.Indicate(make([]core.NBL, n))
			d.left.Add(-n)
			if int32(n) > d.maxInCall.Load() {
				d.maxInCall.Store(int32(n))
			}
			if d.left.Load() > 0 {
				call.Throttle.MorePending = true // and leave interrupts masked
				return
			}
			d.masked.Store(false)
			d.enables.Add(1)
			unmaskDevice(call)
		})
	return c
}

func TestR8_ThrottleCapsIndicationsAndRequeuesOnSameCPU(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 2, MSI: core.MSIX, Messages: 2, MaxNBLs: 4})
	d := &throttledDevice{}
	d.maskedOK.Store(true)
	d.left.Store(21)
	d.ix = mustRegister(t, p, nil, d.chars(), nil)
	p.Raise(d.ix.MessageTable()[1].Vector) // message 1 lands on vCPU 1
	waitFor(t, "all packets indicated", func() bool { return d.enables.Load() == 1 && p.Idle() })
	if got := d.calls.Load(); got != 6 { // 4+4+4+4+4+1
		t.Errorf("DPC ran %d times, want 6", got)
	}
	if got := d.maxInCall.Load(); got != 4 {
		t.Errorf("largest indication per call = %d, want the throttle 4", got)
	}
	n := 0
	d.cpus.Range(func(k, _ any) bool {
		n++
		if k.(int) != 1 {
			t.Errorf("DPC ran on vCPU %d; more-pending calls must stay on the ISR's CPU 1", k)
		}
		return true
	})
	if !d.maskedOK.Load() {
		t.Error("a DPC call found interrupts re-enabled before the last DPC of the batch")
	}
	m := p.Metrics()
	if got := m.Counters["requeues"]; got != 5 {
		t.Errorf("requeues = %d, want 5", got)
	}
	if got := m.Counters["indicated"]; got != 21 {
		t.Errorf("indicated = %d, want 21", got)
	}
	if got := m.Counters["batches"]; got != 1 {
		t.Errorf("batches = %d, want 1", got)
	}
	if h := m.Hist("dpc_batch_size"); h.Max() != 4 || h.TotalCount() != 6 {
		t.Errorf("dpc_batch_size: max %d count %d, want max 4 count 6", h.Max(), h.TotalCount())
	}
	if v := p.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestR8_ThrottleBreachesAreViolations(t *testing.T) {
	tests := []struct {
		name string
		dpc  func(call *core.DPCCall)
		want string
	}{
		// Indicating past MaxNBLs breaks R8; the NBLs are still delivered.
		{"over the limit", func(call *core.DPCCall) {
			call.Indicate(make([]core.NBL, 3))
			unmaskDevice(call)
		}, "R8: DPC for message 0 on vCPU 0 indicated more than MaxNBLs=2"},
		// Re-enabling interrupts while setting MorePending breaks R8.
		{"enable with more pending", func(call *core.DPCCall) {
			unmaskDevice(call)
			if call.Context == nil {
				call.Throttle.MorePending = true
			}
		}, "re-enabled interrupts and set MorePending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlatform(t, core.PlatformConfig{VCPUs: 1, MSI: core.MSIX, MaxNBLs: 2})
			var calls atomic.Int32
			var ix *core.Interrupt
			ix = mustRegister(t, p, nil, msiChars(
				func(any, core.MessageID) core.ISRResult {
					maskDevice(ix, 0)
					return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
				},
				func(_ any, _ core.MessageID, call *core.DPCCall) {
					if calls.Add(1) > 1 {
						unmaskDevice(call)
						return
					}
					tt.dpc(call)
				}), nil)
			p.Raise(ix.MessageTable()[0].Vector)
			waitFor(t, "violation", func() bool { return ix.Violations() > 0 })
			waitFor(t, "idle", p.Idle)
			v := p.Violations()
			if len(v) != 1 || !strings.Contains(v[0].String(), tt.want) {
				t.Errorf("violations = %q, want one containing %q", v, tt.want)
			}
		})
	}
}

func TestR9_WatchdogCountsOverBudgetDPCAndBatch(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 1, MSI: core.MSIX, Budget: 50 * time.Microsecond})
	var n atomic.Int32
	ix := mustRegister(t, p, nil, msiChars(
		func(any, core.MessageID) core.ISRResult {
			return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
		},
		func(_ any, _ core.MessageID, call *core.DPCCall) {
			if n.Add(1) == 1 {
				clock.Spin(300 * time.Microsecond) // over budget: counted, never hidden
			}
			unmaskDevice(call)
		}), nil)
	vec := ix.MessageTable()[0].Vector
	p.Raise(vec)
	waitFor(t, "first batch", func() bool { return p.Counter(core.CtrBatches) == 1 && p.Idle() })
	p.Raise(vec)
	waitFor(t, "second batch", func() bool { return p.Counter(core.CtrBatches) == 2 && p.Idle() })
	m := p.Metrics()
	// The slow DPC and its batch must be counted. (The quick one may be too, if the
	// machine preempts the vCPU for longer than the budget: no assertion on speed.)
	if got := m.Counters["dpcs_over_budget"]; got < 1 || got > 2 {
		t.Errorf("dpcs_over_budget = %d, want 1 (2 at most on a loaded machine)", got)
	}
	if got := m.Counters["batches_over_budget"]; got < 1 || got > 2 {
		t.Errorf("batches_over_budget = %d, want 1 (2 at most on a loaded machine)", got)
	}
	if h := m.Hist("batch_duration"); h.TotalCount() != 2 || h.Max() < int64(300*time.Microsecond) {
		t.Errorf("batch_duration: count %d max %d, want 2 batches, one ≥ 300µs", h.TotalCount(), h.Max())
	}
}

// TestR9_ISRsOverTwentyFiveMicrosecondsAreCounted: an ISR that runs past 25 µs is
// counted, on a line and on a message, beside DPCs and batches over their budget. Bug
// Check 0x133 DPC_WATCHDOG_VIOLATION: "DPCs should not run longer than 100 microseconds
// and ISRs should not run longer than 25 microseconds".
// https://learn.microsoft.com/windows-hardware/drivers/debugger/bug-check-0x133-dpc-watchdog-violation
func TestR9_ISRsOverTwentyFiveMicrosecondsAreCounted(t *testing.T) {
	if core.ISRBudget != 25*time.Microsecond {
		t.Fatalf("ISRBudget = %v, want the guidance's 25µs", core.ISRBudget)
	}
	p := newPlatform(t, core.PlatformConfig{VCPUs: 1, NoPin: true, MSI: core.MSIX})
	var n atomic.Int32
	slowFirst := func() {
		if n.Add(1) == 1 {
			clock.Spin(60 * time.Microsecond) // over 25µs: counted, never hidden
		}
	}
	ix := mustRegister(t, p, nil, msiChars(
		func(any, core.MessageID) core.ISRResult { slowFirst(); return core.ISRResult{Recognized: true} },
		func(any, core.MessageID, *core.DPCCall) {}), nil)
	src, err := p.NewLineSource()
	if err != nil {
		t.Fatal(err)
	}
	mustRegister(t, p, nil, lineChars( // a line-only driver: granted the line
		func(any) core.ISRResult { slowFirst(); src.Deassert(); return core.ISRResult{Recognized: true} },
		func(any, *core.DPCCall) {}), nil)
	p.Raise(ix.MessageTable()[0].Vector)
	waitFor(t, "the slow message ISR", func() bool { return p.Counter(core.CtrISRCalls) == 1 && p.Idle() })
	p.Raise(ix.MessageTable()[0].Vector)
	waitFor(t, "a quick message ISR", func() bool { return p.Counter(core.CtrISRCalls) == 2 && p.Idle() })
	if got := p.Counter(core.CtrISRsOverBudget); got < 1 || got > 2 {
		t.Errorf("isrs_over_budget = %d after one slow and one quick ISR, want 1 (2 at most on a loaded machine)", got)
	}
	n.Store(0)
	before := p.Counter(core.CtrISRsOverBudget)
	src.Assert()
	waitFor(t, "the slow line ISR", func() bool { return p.Counter(core.CtrISRCalls) == 3 && p.Idle() })
	if got := p.Counter(core.CtrISRsOverBudget) - before; got != 1 {
		t.Errorf("a slow line ISR added %d to isrs_over_budget, want 1", got)
	}
	if m := p.Metrics(); m.Counters["isrs_over_budget"] != p.Counter(core.CtrISRsOverBudget) || m.Hist("isr_duration").Max() < int64(60*time.Microsecond) {
		t.Errorf("metrics: isrs_over_budget %d, isr_duration max %d", m.Counters["isrs_over_budget"], m.Hist("isr_duration").Max())
	}
}

func TestR9_BatchLeftMaskedIsViolation(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 2, MSI: core.MSIX, Messages: 1})
	var ix *core.Interrupt
	ix = mustRegister(t, p, nil, msiChars(
		func(any, core.MessageID) core.ISRResult {
			maskDevice(ix, 0)
			return core.ISRResult{Recognized: true, TargetCPUs: core.CPUs(0, 1)}
		},
		func(any, core.MessageID, *core.DPCCall) {}), // forgets to re-enable
		nil)
	p.Raise(ix.MessageTable()[0].Vector)
	waitFor(t, "violation", func() bool { return ix.Violations() == 1 })
	waitFor(t, "idle", p.Idle)
	if v := p.Violations(); len(v) != 1 || !strings.Contains(v[0].String(), "R9") {
		t.Errorf("violations = %q, want one R9 violation", v)
	}
}

func TestR9_BatchSpansEveryDPCUntilTheLastReEnables(t *testing.T) {
	n := vcpus(4)
	p := newPlatform(t, core.PlatformConfig{VCPUs: n, MSI: core.MSIX, Messages: 1})
	var left atomic.Int32
	var enabledEarly atomic.Int32
	var masked atomic.Bool
	var ix *core.Interrupt
	c := msiChars(
		func(any, core.MessageID) core.ISRResult {
			masked.Store(true)
			maskDevice(ix, 0)
			left.Store(int32(n))
			return core.ISRResult{Recognized: true, TargetCPUs: core.CPUSet(1<<uint(n) - 1)}
		},
		func(_ any, _ core.MessageID, call *core.DPCCall) {
			clock.Spin(20 * time.Microsecond)
			if !masked.Load() {
				enabledEarly.Add(1)
			}
			if left.Add(-1) == 0 { // the last DPC of the batch re-enables
				masked.Store(false)
				unmaskDevice(call)
			}
		})
	ix = mustRegister(t, p, nil, c, nil)
	for i := 0; i < 50; i++ {
		p.Raise(ix.MessageTable()[0].Vector)
		waitFor(t, "batch closed", func() bool { return p.Counter(core.CtrBatches) == uint64(i+1) && p.Idle() })
	}
	if enabledEarly.Load() != 0 {
		t.Errorf("%d DPCs ran with interrupts already re-enabled", enabledEarly.Load())
	}
	m := p.Metrics()
	if got := m.Counters["dpcs"]; got != uint64(50*n) {
		t.Errorf("dpcs = %d, want %d", got, 50*n)
	}
	if v := p.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestR9_BatchEndsWhenTheDeviceIsReEnabled: a batch runs from the ISR until the
// miniport's DPC re-enables the device, which it does by writing the NIC's registers
// (MINIPORT_INTERRUPT_DPC: "MiniportInterruptDPC should reenable the interrupts on the NIC
// before it returns"); the registered disable and enable handlers are NDIS's calls "for
// diagnostic and troubleshooting purposes" (MINIPORT_DISABLE_INTERRUPT,
// MINIPORT_ENABLE_INTERRUPT), which the framework never makes. Re-enabling a device that
// is not masked ends nothing.
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_interrupt_dpc
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_disable_interrupt
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_enable_interrupt
func TestR9_BatchEndsWhenTheDeviceIsReEnabled(t *testing.T) {
	const n = 10
	obs := newRecorder(2)
	p := newPlatform(t, core.PlatformConfig{VCPUs: 2, NoPin: true, MSI: core.MSIX, Messages: 1, Observer: obs})
	var handlerCalls atomic.Int32
	var ix *core.Interrupt
	c := msiChars(
		func(any, core.MessageID) core.ISRResult {
			maskDevice(ix, 0)
			return core.ISRResult{Recognized: true, TargetCPUs: core.CPUs(1)}
		},
		func(_ any, _ core.MessageID, call *core.DPCCall) {
			clock.Spin(10 * time.Microsecond)
			unmaskDevice(call) // the batch ends here
			unmaskDevice(call) // not masked any more: ends nothing
		})
	c.Disable = func(any) { handlerCalls.Add(1) }
	c.Enable = func(any) { handlerCalls.Add(1) }
	c.DisableMessage = func(any, core.MessageID) { handlerCalls.Add(1) }
	c.EnableMessage = func(any, core.MessageID) { handlerCalls.Add(1) }
	ix = mustRegister(t, p, nil, c, nil)
	for i := 0; i < n; i++ {
		p.Raise(ix.MessageTable()[0].Vector)
		waitFor(t, "batch closed", func() bool { return p.Counter(core.CtrBatches) == uint64(i+1) && p.Idle() })
	}
	p.Stop()
	if got := handlerCalls.Load(); got != 0 {
		t.Errorf("the framework called the disable/enable handlers %d times; only NDIS's diagnostics call them", got)
	}
	m := p.Metrics()
	if got := m.Hist("batch_duration").TotalCount(); got != n {
		t.Errorf("batch_duration holds %d batches, want %d", got, n)
	}
	if min := m.Hist("batch_duration").Min(); min < int64(10*time.Microsecond) {
		t.Errorf("a batch lasted %dns, less than its DPC's 10µs: it did not end at the DPC's re-enable", min)
	}
	// The re-enable is recorded on the vCPU of the DPC that made it, before that DPC ends.
	if got, want := obs.kinds(1), strings.Repeat(" dpc-start enabled batch-end dpc-end", n)[1:]; got != want {
		t.Errorf("events on vCPU 1:\n got %s\nwant %s", got, want)
	}
	if v := p.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestR5_SerializedMessageISRsNeverOverlap(t *testing.T) {
	for _, serialize := range []bool{true, false} {
		name := "sync-all"
		if !serialize {
			name = "concurrent"
		}
		t.Run(name, func(t *testing.T) {
			n := vcpus(4)
			p := newPlatform(t, core.PlatformConfig{VCPUs: n, MSI: core.MSIX, Messages: n})
			var inFlight, maxInFlight, isrs atomic.Int32
			c := msiChars(
				func(any, core.MessageID) core.ISRResult {
					now := inFlight.Add(1)
					for {
						m := maxInFlight.Load()
						if now <= m || maxInFlight.CompareAndSwap(m, now) {
							break
						}
					}
					clock.Spin(2 * time.Microsecond) // widen the window for an overlap
					inFlight.Add(-1)
					isrs.Add(1)
					return core.ISRResult{Recognized: true}
				},
				func(any, core.MessageID, *core.DPCCall) {})
			c.MSISyncWithAllMessages = serialize
			ix := mustRegister(t, p, nil, c, nil)
			table := ix.MessageTable()
			var wg sync.WaitGroup
			for g := 0; g < 2; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 3000; i++ {
						for _, m := range table {
							p.Raise(m.Vector)
						}
					}
				}()
			}
			wg.Wait()
			waitFor(t, "idle", p.Idle)
			if isrs.Load() == 0 {
				t.Fatal("no ISR ran")
			}
			if serialize && maxInFlight.Load() != 1 {
				t.Errorf("with MSISyncWithAllMessages, %d message ISRs ran at once", maxInFlight.Load())
			}
			t.Logf("max message ISRs in flight: %d of %d vCPUs (%d ISRs)", maxInFlight.Load(), n, isrs.Load())
		})
	}
}

func TestR11_DeregisterUnderInterruptStorm(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 8
	}
	for r := 0; r < rounds; r++ {
		n := vcpus(4)
		p := newPlatform(t, core.PlatformConfig{VCPUs: n, MSI: core.MSIX, Messages: n})
		var dead atomic.Bool
		var after, isrs, dpcs atomic.Int64
		var ix *core.Interrupt
		ix = mustRegister(t, p, nil, msiChars(
			func(any, core.MessageID) core.ISRResult {
				if dead.Load() {
					after.Add(1)
				}
				isrs.Add(1)
				return core.ISRResult{Recognized: true, TargetCPUs: core.CPUSet(1<<uint(n) - 1)}
			},
			func(_ any, msg core.MessageID, call *core.DPCCall) {
				if dead.Load() {
					after.Add(1)
				}
				dpcs.Add(1)
				call.QueueDPC(msg, core.CPUs(int(msg+1)%n), "more")
				if call.Context == nil {
					call.Throttle.MorePending = dpcs.Load()%3 == 0
				}
			}), nil)
		table := ix.MessageTable()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					p.Raise(table[i%len(table)].Vector)
					ix.QueueDPC(core.MessageID(i%len(table)), core.CPUs(i%n), i)
				}
			}()
		}
		waitFor(t, "storm under way", func() bool { return isrs.Load() > 50 && dpcs.Load() > 50 })
		ix.Deregister()
		dead.Store(true)
		time.Sleep(2 * time.Millisecond) // the storm goes on against a dead interrupt
		close(stop)
		wg.Wait()
		waitFor(t, "idle", p.Idle)
		if got := after.Load(); got != 0 {
			t.Fatalf("round %d: %d ISR/DPC calls after Deregister returned (R11)", r, got)
		}
		if got := ix.QueueDPC(0, core.CPUs(0), nil); got != 0 {
			t.Fatalf("QueueDPC after Deregister queued on %v", got)
		}
		p.Stop()
	}
}
