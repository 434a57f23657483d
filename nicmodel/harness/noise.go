package harness

import (
	"sync/atomic"

	"github.com/ndisbench/ndisbench/core"
)

// noiseDevice is a second device on the shared line: it raises interrupts at a set rate
// and claims only its own (R3); it has no DPC work.
type noiseDevice struct {
	src     *core.LineSource
	ix      *core.Interrupt
	pending atomic.Bool
	raised  atomic.Uint64
	claimed atomic.Uint64
}

func newNoiseDevice(p *core.Platform) (*noiseDevice, error) {
	d := &noiseDevice{}
	src, err := p.NewLineSource()
	if err != nil {
		return nil, err
	}
	d.src = src
	d.ix, err = p.RegisterInterrupt(d, core.InterruptCharacteristics{
		ISR:     d.isr,
		DPC:     func(any, *core.DPCCall) {},
		Disable: func(any) {},
		Enable:  func(any) {},
	}, nil)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (d *noiseDevice) fire() {
	d.raised.Add(1)
	d.pending.Store(true)
	d.src.Assert()
}

// isr claims the interrupt only when this device raised it. Either way it drops its
// assertion, unless it was raised again since it looked: an assertion left up with
// nothing pending (a raise that set pending before this ISR looked and asserted after)
// would be delivered again and again, unclaimed.
func (d *noiseDevice) isr(any) core.ISRResult {
	mine := d.pending.Swap(false)
	d.src.Deassert()
	if d.pending.Load() { // raised again since the swap
		d.src.Assert()
	}
	if !mine {
		return core.ISRResult{}
	}
	d.claimed.Add(1)
	return core.ISRResult{Recognized: true}
}
