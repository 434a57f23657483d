package trace_test

import (
	"fmt"
	"io"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
)

// A Recorder observes a platform: Begin before the platform starts, WriteTo once it has
// stopped. bench run -trace writes what WriteTo writes into a file Perfetto UI opens.
func Example() {
	r, err := trace.New(trace.Config{VCPUs: 1, Window: time.Second, Capacity: 1024, Name: "example"})
	if err != nil {
		panic(err)
	}
	p, err := core.NewPlatform(core.PlatformConfig{VCPUs: 1, NoPin: true, MSI: core.MSIX, Observer: r})
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	var ix *core.Interrupt
	ix, err = p.RegisterInterrupt(nil, core.InterruptCharacteristics{
		ISR: func(any) core.ISRResult { return core.ISRResult{} }, DPC: func(any, *core.DPCCall) {},
		Disable: func(any) {}, Enable: func(any) {},
		MSISupported: true,
		MessageISR: func(_ any, msg core.MessageID) core.ISRResult {
			ix.DeviceMasked(msg, true) // the ISR masks its device...
			return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
		},
		MessageDPC: func(_ any, msg core.MessageID, c *core.DPCCall) {
			c.Indicate(make([]core.NBL, 3))
			c.Interrupt().DeviceMasked(msg, false) // ...and its DPC re-enables it
			close(done)
		},
		DisableMessage: func(any, core.MessageID) {}, EnableMessage: func(any, core.MessageID) {},
	}, nil)
	if err != nil {
		panic(err)
	}
	r.Begin(p.Clock().Now())
	if err := p.Start(); err != nil {
		panic(err)
	}
	p.Raise(ix.MessageTable()[0].Vector)
	<-done
	p.Stop()
	if _, err := r.WriteTo(io.Discard); err != nil {
		panic(err)
	}
	st := r.Stats()
	fmt.Printf("%d events kept, %d DPC call, %d did not fit\n", st.Kept, st.DPCs, st.Overflow)
	// Output: 8 events kept, 1 DPC call, 0 did not fit
}
