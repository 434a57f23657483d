package park

import "golang.org/x/sys/unix"

// Yield gives the CPU to another runnable thread (sched_yield), keeping the calling
// goroutine on its thread and P: the spin-yield idle strategy's yield.
func Yield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
