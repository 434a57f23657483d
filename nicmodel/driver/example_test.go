package driver_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/driver/minimal"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// A complete small miniport, nicmodel/driver/minimal (about a hundred lines: copy it to
// start your own), run end to end: 100 ms of MSI-X traffic over two queues on two
// vCPUs, then the drain, Halt and every invariant of DESIGN.md §5 checked. A user's
// driver runs the same way, its factory in Options.Driver; registered in package
// harness, it runs as "bench run -driver NAME" too.
func Example() {
	sc := scenario.Default()
	sc.Driver = "minimal"
	sc.Mode, sc.VCPUs, sc.Queues = nicmodel.ModeMSIX, 2, 2
	sc.Idle, sc.NoPin = core.IdleSpinPark, true // behaves on one CPU too
	sc.Duration, sc.Warmup, sc.Schedule.RatePPS = 100*time.Millisecond, 10*time.Millisecond, 100e3

	rep, err := harness.Run(context.Background(), sc, harness.Options{Driver: minimal.New})
	if err != nil {
		fmt.Println(err) // a bad scenario, a driver that cannot start, or a broken invariant
		return
	}
	c := rep.Counters
	fmt.Println("every invariant held:", rep.Err() == nil)
	fmt.Println("every packet written was indicated once, in order:", c["indicated"] == c["written"] && c["written"] > 0)
	fmt.Println("contract violations:", c["violations"])
	fmt.Println("both queues' DPCs ran:", rep.PerCPU[0] > 0 && rep.PerCPU[1] > 0)
	// Output:
	// every invariant held: true
	// every packet written was indicated once, in order: true
	// contract violations: 0
	// both queues' DPCs ran: true
}
