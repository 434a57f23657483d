package affinity

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// ErrPinRefused is the errors.Is target of every refusal to pin: a CPU outside the allowed
// set, or an OS that says no (EPERM, EINVAL).
var ErrPinRefused = errors.New("pinning refused")

// Allowed returns the CPUs the calling thread may run on (sched_getaffinity), which
// respects taskset and container cpusets.
func Allowed() (CPUList, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("affinity: sched_getaffinity: %w", err)
	}
	return fromSet(&set), nil
}

func fromSet(set *unix.CPUSet) CPUList {
	var l CPUList
	for c := 0; c < MaxCPUs; c++ {
		if set.IsSet(c) {
			l = append(l, c)
		}
	}
	return l
}

// Pin locks the calling goroutine to its OS thread and sets that thread's affinity to cpu
// alone. The returned undo restores the previous mask and then unlocks the thread; it must
// run on the same goroutine. On failure nothing is changed (the thread is unlocked, its mask
// untouched) and the error matches ErrPinRefused.
func Pin(cpu int) (undo func(), err error) {
	if cpu < 0 || cpu >= MaxCPUs {
		return nil, fmt.Errorf("affinity: pin to CPU %d: out of range 0-%d: %w", cpu, MaxCPUs-1, ErrPinRefused)
	}
	runtime.LockOSThread()
	var prev unix.CPUSet
	if err := unix.SchedGetaffinity(0, &prev); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("affinity: pin to CPU %d: sched_getaffinity: %v: %w", cpu, err, ErrPinRefused)
	}
	if !prev.IsSet(cpu) {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("affinity: pin to CPU %d: not in the allowed set %s: %w", cpu, fromSet(&prev), ErrPinRefused)
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("affinity: pin to CPU %d: sched_setaffinity: %v: %w", cpu, err, ErrPinRefused)
	}
	return func() {
		_ = unix.SchedSetaffinity(0, &prev)
		runtime.UnlockOSThread()
	}, nil
}

// CurrentCPU returns the CPU the calling thread is running on now (getcpu).
func CurrentCPU() (int, error) {
	var cpu, node uint32
	if _, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptrOf(&cpu), uintptrOf(&node), 0); errno != 0 {
		return 0, fmt.Errorf("affinity: getcpu: %w", errno)
	}
	return int(cpu), nil
}
