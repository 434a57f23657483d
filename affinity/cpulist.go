package affinity

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxCPUs is the largest CPU count the package handles: CPU_SETSIZE of unix.CPUSet.
const MaxCPUs = 1024

// ErrBadCPUList is the errors.Is target of every CPU-list parse error.
var ErrBadCPUList = errors.New("bad CPU list")

// CPUList is a sorted list of distinct CPU ids. It implements flag.Value.
type CPUList []int

// ParseCPUList parses a list of CPU ids and ranges such as "0-3,8,10-11". Spaces around
// items are allowed; an empty list, a reversed range, a negative or non-numeric id, or an
// id of MaxCPUs or more is an error naming the offending item.
func ParseCPUList(s string) (CPUList, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("affinity: CPU list is empty: %w", ErrBadCPUList)
	}
	seen := map[int]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := parseCPU(lo, item)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parseCPU(hi, item); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("affinity: CPU list %q: range %q runs backwards: %w", s, item, ErrBadCPUList)
			}
		}
		for c := a; c <= b; c++ {
			seen[c] = true
		}
	}
	l := make(CPUList, 0, len(seen))
	for c := range seen {
		l = append(l, c)
	}
	sort.Ints(l)
	return l, nil
}

func parseCPU(s, item string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("affinity: CPU list item %q: missing CPU number: %w", item, ErrBadCPUList)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("affinity: CPU list item %q: %q is not a CPU number: %w", item, s, ErrBadCPUList)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= MaxCPUs {
		return 0, fmt.Errorf("affinity: CPU list item %q: CPU %s is out of range 0-%d: %w", item, s, MaxCPUs-1, ErrBadCPUList)
	}
	return n, nil
}

// String returns l in canonical form, ranges collapsed: "0-3,8,10-11".
func (l CPUList) String() string {
	var b strings.Builder
	for i := 0; i < len(l); {
		j := i
		for j+1 < len(l) && l[j+1] == l[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(l[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(l[j]))
		}
		i = j + 1
	}
	return b.String()
}

// Set parses s into l, for flag.Value.
func (l *CPUList) Set(s string) error {
	v, err := ParseCPUList(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Contains reports whether cpu is in l.
func (l CPUList) Contains(cpu int) bool {
	i := sort.SearchInts(l, cpu)
	return i < len(l) && l[i] == cpu
}
