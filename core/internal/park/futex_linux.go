package park

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations from linux/futex.h; golang.org/x/sys/unix does not export them.
const (
	futexWaitPrivate = 0 | 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 1 | 128 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
)

// futexWait blocks the calling OS thread while *addr == val, until futexWake or a spurious
// wake-up. It returns at once when *addr != val. Callers re-check their condition.
func futexWait(addr *uint32, val uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexWaitPrivate, uintptr(val), 0, 0, 0)
}

// futexWake wakes at most n threads blocked in futexWait on addr.
func futexWake(addr *uint32, n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexWakePrivate, uintptr(n), 0, 0, 0)
}
