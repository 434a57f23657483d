package core_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
)

// newPlatform builds and starts a platform for a test and stops it at cleanup. Tests use
// spin-park with a short spin so that they behave on one CPU as well as on many.
func newPlatform(t testing.TB, cfg core.PlatformConfig) *core.Platform {
	t.Helper()
	if cfg.Spin == 0 {
		cfg.Spin = 5 * time.Microsecond
	}
	p, err := core.NewPlatform(cfg)
	if err != nil {
		t.Fatalf("NewPlatform: %v", err)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

// waitFor polls cond until it holds. The deadline only guards against a hang; no test
// asserts how fast anything happens.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(20 * time.Microsecond)
	}
}

// lineChars returns valid line-only characteristics around isr and dpc.
func lineChars(isr core.ISRFunc, dpc core.DPCFunc) core.InterruptCharacteristics {
	return core.InterruptCharacteristics{
		ISR:     isr,
		DPC:     dpc,
		Disable: func(any) {},
		Enable:  func(any) {},
	}
}

// msiChars returns valid MSI-capable characteristics around the message handlers. The
// line handlers claim nothing: tests that use them on a line grant say so.
func msiChars(isr core.MessageISRFunc, dpc core.MessageDPCFunc) core.InterruptCharacteristics {
	c := lineChars(func(any) core.ISRResult { return core.ISRResult{} }, func(any, *core.DPCCall) {})
	c.MSISupported = true
	c.MessageISR = isr
	c.MessageDPC = dpc
	c.DisableMessage = func(any, core.MessageID) {}
	c.EnableMessage = func(any, core.MessageID) {}
	return c
}

// maskDevice and unmaskDevice stand for a test device's interrupt mask register: a
// miniport's ISR and DPC write it, and the device reports the writes to the platform
// (Interrupt.DeviceMasked), as a NIC connected by driver.Connect does. Re-enabling the
// device ends the interrupt DPC batch (R9).
func maskDevice(ix *core.Interrupt, msg core.MessageID) { ix.DeviceMasked(msg, true) }

func unmaskDevice(c *core.DPCCall) { c.Interrupt().DeviceMasked(c.Message, false) }

func mustRegister(t testing.TB, p *core.Platform, ctx any, c core.InterruptCharacteristics, s core.Stack) *core.Interrupt {
	t.Helper()
	ix, err := p.RegisterInterrupt(ctx, c, s)
	if err != nil {
		t.Fatalf("RegisterInterrupt: %v", err)
	}
	return ix
}

func vcpus(max int) int {
	n := runtime.GOMAXPROCS(0)
	if n > max {
		n = max
	}
	if n < 2 {
		n = 2 // more vCPUs than CPUs is part of what is tested
	}
	return n
}

func TestInfoReportsHowThePlatformRuns(t *testing.T) {
	p := newPlatform(t, core.PlatformConfig{VCPUs: 3, Idle: core.IdleSpinPark})
	ri := p.Info()
	if ri.VCPUs != 3 || ri.GOMAXPROCS != runtime.GOMAXPROCS(0) || ri.Idle != "spin-park" || ri.CPUs == "" {
		t.Errorf("Info = %+v", ri)
	}
	if ri.Pinned == (ri.PinError != "") {
		t.Errorf("Pinned %v but PinError %q", ri.Pinned, ri.PinError)
	}
	if runtime.NumCPU() < 3 && !ri.Oversubscribed {
		t.Errorf("3 vCPUs on %d CPUs not reported as oversubscribed", runtime.NumCPU())
	}
}

// clock is the tests' clock: the real one, as a platform's default.
var clock core.Clock // the zero Clock: the real one
