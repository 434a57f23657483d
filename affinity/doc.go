// Package affinity pins goroutines' OS threads to CPUs, reads the CPU set this process may
// use and the machine's topology, and parses CPU lists such as "0-3,8,10-11".
//
// A vCPU in ndisbench is a goroutine locked to an OS thread that is pinned to one real CPU.
// Pinning can be refused (a container's cpuset, a seccomp policy, a CPU outside the allowed
// set); Pin then fails with an error matching ErrPinRefused, so a run can go on unpinned and
// say so in its result. Correctness never depends on pinning.
//
// The package deliberately does not set NUMA memory policy, write cgroups, change IRQ
// affinity, or isolate CPUs: it only uses what the process is already allowed.
package affinity
