//go:build !linux

package park

import (
	"runtime"
	"sync/atomic"
)

// futexWait has no futex to use outside Linux: it yields until *addr changes. Parking
// there is a polite spin, which keeps the model correct but is not the measured path.
func futexWait(addr *uint32, val uint32) {
	for i := 0; i < 64 && atomic.LoadUint32(addr) == val; i++ {
		runtime.Gosched()
	}
}

func futexWake(addr *uint32, n int) {}
