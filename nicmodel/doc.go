// Package nicmodel is ndisbench's simulated network adapter: the device a miniport
// drives. Its subpackages follow a packet: traffic (the open-loop generator and its
// schedule, flows and sizes) → this package (the NIC: RX rings, buffers, cause register,
// masks, moderation, RSS) → core (interrupts and DPCs on vCPUs) → driver (the seam a
// miniport implements; driver/reference and driver/minimal implement it) → stack (checks
// and times every packet) → results (files). scenario says what a run is; harness runs
// one end to end and checks the invariants of DESIGN.md §5.
//
// How each NIC mechanism maps to real hardware:
//
//   - RX queues: one descriptor ring per queue (an SPSC ring, written by the "wire",
//     read by the queue's DPC) and a pool of posted receive buffers. A packet needs a
//     free buffer; buffers come back only when the stack has consumed the packet
//     (Return), so a slow stack shows up as exhaustion and drops, as on real NICs.
//   - Descriptor write-back: the NIC publishes descriptors to the driver WriteBack at a
//     time (Stage, then Flush), like the write-back threshold (WTHRESH) of Intel NICs
//     that write completed descriptors back to host memory in bursts. The generator
//     flushes whenever it has caught up with its schedule, so at low rates every packet
//     is published at once.
//   - Interrupt delivery: MSI-X gives every queue its own message aimed at the queue's
//     CPU (the MSI-X table entry's address names the CPU); MSI signals every queue
//     through one message; a line asserts one level-triggered line, possibly shared
//     with other devices, and sets bits in a read-to-clear cause register (ICR) that
//     the line ISR must read (ReadCause, with an optional MMIO read cost) to learn
//     whether its device raised the line and which queues have work. A read that
//     reports causes also masks the NIC's interrupt, like the interrupt auto-mask (IAM)
//     of Intel's ICR, so the line ISR's read and mask are one step.
//   - Masks: per vector (IMC/IMS, or the MSI-X vector control mask bit), written by the
//     miniport (Mask in a message ISR, Unmask in the batch's last DPC) and reported to
//     the platform. Raising a masked vector does nothing; a masked device does not
//     assert its line; unmasking with descriptors pending raises at once (no lost
//     interrupts).
//   - Moderation: a minimum interval between interrupts per vector (ITR, rx-usecs)
//     and/or a packet-count threshold (rx-frames); deferred interrupts fire from Poll.
//   - RSS: the Toeplitz hash over the flow's addresses and ports with a configurable
//     key (default: the 40-byte key of the RSS specification, checked against its
//     verification vectors), and an indirection table (128 entries by default) from
//     the hash's low bits to a queue; the NIC hands its hash up with the packet
//     (core.NBL.Hash, Hashed: NET_BUFFER_LIST hash information). With RSSDriver the NIC
//     has one queue and computes no hash: the miniport's DPC hashes each packet's
//     4-tuple (core.NBL.Tuple, what its headers hold) and looks it up in software (R10).
//
// The package does not model transmit, link state, DMA or PCIe timing: only what the
// receive interrupt path needs.
package nicmodel
