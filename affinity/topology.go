package affinity

import (
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// CPUInfo is one CPU's place in the machine.
type CPUInfo struct {
	ID       int     `json:"id"`
	Core     int     `json:"core"`     // physical core id within the package
	Package  int     `json:"package"`  // physical package (socket) id
	Siblings CPUList `json:"siblings"` // SMT siblings sharing the core, itself included
}

// Topology is the layout of a set of CPUs.
type Topology struct {
	CPUs      []CPUInfo `json:"cpus"`
	FromSysfs bool      `json:"from_sysfs"` // false: /sys was unreadable and the fallback is used
}

// SysCPUDir is where Linux describes its CPUs.
const SysCPUDir = "/sys/devices/system/cpu"

// ReadTopology reads the topology of cpus from /sys/devices/system/cpu.
func ReadTopology(cpus CPUList) (Topology, error) {
	return ReadTopologyFS(os.DirFS(SysCPUDir), cpus)
}

// ReadTopologyFS reads the topology of cpus from fsys, rooted like /sys/devices/system/cpu.
// Where that is missing or unreadable it returns the fallback (every CPU its own core in
// package 0) with FromSysfs false, and a nil error: the fallback is a usable answer.
func ReadTopologyFS(fsys fs.FS, cpus CPUList) (Topology, error) {
	t := Topology{FromSysfs: true}
	for _, c := range cpus {
		info, err := readCPU(fsys, c)
		if err != nil {
			return fallback(cpus), nil
		}
		t.CPUs = append(t.CPUs, info)
	}
	return t, nil
}

func readCPU(fsys fs.FS, c int) (CPUInfo, error) {
	dir := fmt.Sprintf("cpu%d/topology/", c)
	core, err := readInt(fsys, dir+"core_id")
	if err != nil {
		return CPUInfo{}, err
	}
	pkg, err := readInt(fsys, dir+"physical_package_id")
	if err != nil {
		return CPUInfo{}, err
	}
	sib, err := fs.ReadFile(fsys, dir+"thread_siblings_list")
	if err != nil {
		sib, err = fs.ReadFile(fsys, dir+"core_cpus_list")
		if err != nil {
			return CPUInfo{}, err
		}
	}
	siblings, err := ParseCPUList(strings.TrimSpace(string(sib)))
	if err != nil {
		return CPUInfo{}, err
	}
	return CPUInfo{ID: c, Core: core, Package: pkg, Siblings: siblings}, nil
}

func readInt(fsys fs.FS, name string) (int, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func fallback(cpus CPUList) Topology {
	t := Topology{}
	for _, c := range cpus {
		t.CPUs = append(t.CPUs, CPUInfo{ID: c, Core: c, Package: 0, Siblings: CPUList{c}})
	}
	return t
}

func (t Topology) info(cpu int) (CPUInfo, bool) {
	for _, i := range t.CPUs {
		if i.ID == cpu {
			return i, true
		}
	}
	return CPUInfo{}, false
}

// SameCore reports whether a and b are SMT siblings of one physical core.
func (t Topology) SameCore(a, b int) bool {
	ia, ok := t.info(a)
	if !ok || a == b {
		return a == b
	}
	return ia.Siblings.Contains(b)
}

// PickPair chooses two CPUs of allowed for a cross-CPU measurement, preferring two
// different physical cores over SMT siblings. ok is false with fewer than two CPUs.
func PickPair(allowed CPUList, t Topology) (a, b int, ok bool) {
	if len(allowed) < 2 {
		return 0, 0, false
	}
	for i, x := range allowed {
		for _, y := range allowed[i+1:] {
			if !t.SameCore(x, y) {
				return x, y, true
			}
		}
	}
	return allowed[0], allowed[1], true
}
