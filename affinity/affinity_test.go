package affinity_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/ndisbench/ndisbench/affinity"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want affinity.CPUList // nil: an error
	}{
		{"0", affinity.CPUList{0}},                               // one CPU
		{"0-3,8,10-11", affinity.CPUList{0, 1, 2, 3, 8, 10, 11}}, // the documented example
		{" 3 , 1-2 ", affinity.CPUList{1, 2, 3}},                 // spaces and order do not matter
		{"2,2,1-2", affinity.CPUList{1, 2}},                      // duplicates collapse
		{"5-5", affinity.CPUList{5}},                             // a one-CPU range
		{"1023", affinity.CPUList{1023}},                         // the largest id
		{"", nil},                                                // empty
		{"3-1", nil},                                             // backwards range
		{"x", nil},                                               // not a number
		{"-1", nil},                                              // negative
		{"9-x", nil},                                             // bad range end
		{"1,,2", nil},                                            // empty item
		{"1024", nil},                                            // out of range
		{"+1", nil},                                              // sign
		{"99999999999999999999", nil},                            // overflow
	}
	for _, tt := range tests {
		got, err := affinity.ParseCPUList(tt.in)
		if tt.want == nil {
			if err == nil || !errors.Is(err, affinity.ErrBadCPUList) {
				t.Errorf("ParseCPUList(%q) = %v, %v; want an ErrBadCPUList", tt.in, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func ExampleCPUList_String() {
	l, _ := affinity.ParseCPUList("11,0-3,10,8")
	fmt.Println(l)
	// Output: 0-3,8,10-11
}

func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0", "0-3,8,10-11", "3-1", "", "1,,2", " 7 ", "1023"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := affinity.ParseCPUList(s)
		if err != nil {
			return
		}
		again, err := affinity.ParseCPUList(l.String())
		if err != nil || !slices.Equal(l, again) {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, l, l.String(), again, err)
		}
		if !slices.IsSorted(l) || len(slices.Compact(slices.Clone(l))) != len(l) {
			t.Fatalf("%q parsed to an unsorted or repeating list %v", s, l)
		}
	})
}

func TestAllowedIsNonEmpty(t *testing.T) {
	l, err := affinity.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if len(l) == 0 {
		t.Fatal("no allowed CPU")
	}
}

func TestPinRunsOnTheCPUAndUndoRestores(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pinning is Linux-only")
	}
	allowed, _ := affinity.Allowed()
	done := make(chan error)
	go func() {
		for _, cpu := range allowed {
			undo, err := affinity.Pin(cpu)
			if errors.Is(err, affinity.ErrPinRefused) {
				done <- nil // a container may refuse; that is the documented outcome
				return
			}
			if err != nil {
				done <- err
				return
			}
			for i := 0; i < 3; i++ {
				runtime.Gosched()
				if got, err := affinity.CurrentCPU(); err != nil || got != cpu {
					undo()
					done <- fmt.Errorf("pinned to %d but running on %d (%v)", cpu, got, err)
					return
				}
			}
			now, _ := affinity.Allowed()
			if !slices.Equal(now, affinity.CPUList{cpu}) {
				undo()
				done <- fmt.Errorf("pinned to %d, mask is %v", cpu, now)
				return
			}
			undo()
			if back, _ := affinity.Allowed(); !slices.Equal(back, allowed) {
				done <- fmt.Errorf("undo left mask %v, want %v", back, allowed)
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPinOutsideAllowedSetIsRefused(t *testing.T) {
	allowed, _ := affinity.Allowed()
	outside := -1
	for c := 0; c < affinity.MaxCPUs; c++ {
		if !allowed.Contains(c) {
			outside = c
			break
		}
	}
	for _, cpu := range []int{outside, -1, affinity.MaxCPUs} {
		if cpu == -1 && outside == -1 {
			continue
		}
		undo, err := affinity.Pin(cpu)
		if err == nil {
			undo()
			t.Fatalf("Pin(%d) outside %v succeeded", cpu, allowed)
		}
		if !errors.Is(err, affinity.ErrPinRefused) {
			t.Errorf("Pin(%d) error %v is not ErrPinRefused", cpu, err)
		}
	}
	if back, _ := affinity.Allowed(); !slices.Equal(back, allowed) {
		t.Errorf("a refused Pin changed the mask to %v", back)
	}
}

// smt4 is a 4-CPU machine with 2 cores of 2 SMT threads: CPUs 0,2 on core 0, 1,3 on core 1.
var smt4 = fstest.MapFS{
	"cpu0/topology/core_id":              {Data: []byte("0\n")},
	"cpu0/topology/physical_package_id":  {Data: []byte("0\n")},
	"cpu0/topology/thread_siblings_list": {Data: []byte("0,2\n")},
	"cpu1/topology/core_id":              {Data: []byte("1\n")},
	"cpu1/topology/physical_package_id":  {Data: []byte("0\n")},
	"cpu1/topology/thread_siblings_list": {Data: []byte("1,3\n")},
	"cpu2/topology/core_id":              {Data: []byte("0\n")},
	"cpu2/topology/physical_package_id":  {Data: []byte("0\n")},
	"cpu2/topology/thread_siblings_list": {Data: []byte("0,2\n")},
	"cpu3/topology/core_id":              {Data: []byte("1\n")},
	"cpu3/topology/physical_package_id":  {Data: []byte("0\n")},
	"cpu3/topology/thread_siblings_list": {Data: []byte("1,3\n")},
}

// twoPkg is a 2-package machine, one CPU each, using core_cpus_list (newer kernels).
var twoPkg = fstest.MapFS{
	"cpu0/topology/core_id":             {Data: []byte("0")},
	"cpu0/topology/physical_package_id": {Data: []byte("0")},
	"cpu0/topology/core_cpus_list":      {Data: []byte("0")},
	"cpu1/topology/core_id":             {Data: []byte("0")},
	"cpu1/topology/physical_package_id": {Data: []byte("1")},
	"cpu1/topology/core_cpus_list":      {Data: []byte("1")},
}

func TestTopology(t *testing.T) {
	topo, err := affinity.ReadTopologyFS(smt4, affinity.CPUList{0, 1, 2, 3})
	if err != nil || !topo.FromSysfs {
		t.Fatalf("smt4: %v, from sysfs %v", err, topo.FromSysfs)
	}
	if !topo.SameCore(0, 2) || topo.SameCore(0, 1) {
		t.Errorf("smt4: SameCore(0,2)=%v SameCore(0,1)=%v", topo.SameCore(0, 2), topo.SameCore(0, 1))
	}
	// 0 and 2 are siblings, so the pair must be two cores.
	if a, b, ok := affinity.PickPair(affinity.CPUList{0, 2, 3}, topo); !ok || topo.SameCore(a, b) {
		t.Errorf("PickPair chose %d,%d (ok %v): SMT siblings", a, b, ok)
	}
	if a, b, ok := affinity.PickPair(affinity.CPUList{0, 2}, topo); !ok || a != 0 || b != 2 {
		t.Errorf("PickPair of siblings only = %d,%d,%v; want 0,2,true", a, b, ok)
	}
	if _, _, ok := affinity.PickPair(affinity.CPUList{1}, topo); ok {
		t.Error("PickPair of one CPU succeeded")
	}

	topo, _ = affinity.ReadTopologyFS(twoPkg, affinity.CPUList{0, 1})
	if topo.CPUs[1].Package != 1 || topo.SameCore(0, 1) {
		t.Errorf("twoPkg: %+v", topo)
	}

	topo, err = affinity.ReadTopologyFS(fstest.MapFS{}, affinity.CPUList{0, 5})
	if err != nil || topo.FromSysfs || len(topo.CPUs) != 2 || topo.CPUs[1].Core != 5 {
		t.Errorf("missing sysfs: %+v, %v; want the fallback", topo, err)
	}
}
