package nicmodel_test

import (
	"fmt"

	"github.com/ndisbench/ndisbench/nicmodel"
)

// The first row of the RSS specification's verification table: a TCP segment from
// 66.9.149.187:2794 to 161.142.100.80:1766, hashed with the default key.
func ExampleToeplitz_HashFlow() {
	t, err := nicmodel.NewToeplitz(nicmodel.DefaultRSSKey())
	if err != nil {
		panic(err)
	}
	f := nicmodel.FlowTuple{
		SrcIP: [4]byte{66, 9, 149, 187}, SrcPort: 2794,
		DstIP: [4]byte{161, 142, 100, 80}, DstPort: 1766,
	}
	fmt.Printf("4-tuple:   %#08x\n", t.HashFlow(f))
	fmt.Printf("addresses: %#08x\n", t.Hash(f.HashInput(nil)[:8]))
	// Output:
	// 4-tuple:   0x51ccc178
	// addresses: 0x323e8fc2
}

// A 128-entry table over 4 queues: the hash's low 7 bits pick the entry.
func ExampleIndirection_Lookup() {
	x, err := nicmodel.NewIndirection(128, 4)
	if err != nil {
		panic(err)
	}
	fmt.Println(x.Lookup(0x51ccc178)) // entry 0x78 = 120, round-robin: 120 % 4
	if err := x.Set(0x78, 3); err != nil {
		panic(err)
	}
	fmt.Println(x.Lookup(0x51ccc178))
	// Output:
	// 0
	// 3
}
