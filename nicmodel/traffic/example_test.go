package traffic_test

import (
	"fmt"
	"time"

	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/traffic"
)

// A constant 1 Mpps schedule: one packet every microsecond, the first at 0.
func ExampleNewSchedule() {
	s, err := traffic.NewSchedule(traffic.ScheduleConfig{Kind: traffic.KindConstant, RatePPS: 1e6})
	if err != nil {
		panic(err)
	}
	for range 4 {
		fmt.Println(s.Next())
	}
	// Output:
	// 0
	// 1000
	// 2000
	// 3000
}

// Bursts of 2 packets (2 µs at 1 Mpps) separated by 8 µs of silence.
func ExampleNewSchedule_bursts() {
	s, err := traffic.NewSchedule(traffic.ScheduleConfig{
		Kind: traffic.KindBursts, RatePPS: 1e6, On: 2 * time.Microsecond, Off: 8 * time.Microsecond,
	})
	if err != nil {
		panic(err)
	}
	var at [6]int64
	for i := range at {
		at[i] = s.Next()
	}
	fmt.Println(at)
	fmt.Printf("offered over 1 ms: %.0f pps\n", s.OfferedRate(1e6))
	// Output:
	// [0 1000 10000 11000 20000 21000]
	// offered over 1 ms: 200000 pps
}

func ExampleScheduleConfig_Validate() {
	err := traffic.ScheduleConfig{Kind: traffic.KindPoisson, RatePPS: -3}.Validate()
	fmt.Println(err)
	// Output:
	// traffic: schedule: rate_pps must be > 0, got -3: invalid traffic configuration
}

func ExampleSizes_Mean() {
	s, err := traffic.NewSizes(traffic.SizeConfig{IMIX: true})
	if err != nil {
		panic(err)
	}
	fmt.Printf("simple IMIX mean: %.2f bytes\n", s.Mean())
	// Output:
	// simple IMIX mean: 361.83 bytes
}

// Flows come with their RSS hashes, ready for the indirection table.
func ExampleNewFlows() {
	t, _ := nicmodel.NewToeplitz(nicmodel.DefaultRSSKey())
	f, err := traffic.NewFlows(traffic.FlowConfig{Count: 1000, Dist: traffic.DistZipf, ZipfS: 1.2, Seed: 1}, t)
	if err != nil {
		panic(err)
	}
	x, _ := nicmodel.NewIndirection(128, 4)
	i := f.Next()
	fmt.Println(f.Len(), f.Hash(i) == t.HashFlow(f.Tuple(i)), x.Lookup(f.Hash(i)) < 4)
	// Output:
	// 1000 true true
}
