//go:build !linux

package affinity

import (
	"errors"
	"fmt"
	"runtime"
)

// ErrPinRefused is the errors.Is target of every refusal to pin. Outside Linux every pin
// is refused: the package has no portable way to set a thread's affinity.
var ErrPinRefused = errors.New("pinning refused")

// Allowed returns 0..runtime.NumCPU()-1 outside Linux.
func Allowed() (CPUList, error) {
	l := make(CPUList, runtime.NumCPU())
	for i := range l {
		l[i] = i
	}
	return l, nil
}

// Pin always fails outside Linux, with an error matching ErrPinRefused.
func Pin(cpu int) (undo func(), err error) {
	return nil, fmt.Errorf("affinity: pin to CPU %d: %s: %w", cpu, Unsupported(runtime.GOOS), ErrPinRefused)
}

// CurrentCPU is not available outside Linux.
func CurrentCPU() (int, error) {
	return 0, fmt.Errorf("affinity: current CPU: not supported on %s", runtime.GOOS)
}
