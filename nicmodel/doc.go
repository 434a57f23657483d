// Package nicmodel is ndisbench's simulated network adapter: the device side of the
// interrupt model, which package core's miniport drivers handle.
//
// How each mechanism maps to real hardware:
//
//   - RX queues: one descriptor ring per queue (an SPSC ring, written by the "wire",
//     read by the queue's DPC) and a pool of posted receive buffers. A packet needs a
//     free buffer; buffers come back only when the stack has consumed the packet
//     (Return), so a slow stack shows up as exhaustion and drops, as on real NICs.
//   - Interrupt delivery: MSI-X gives every queue its own message aimed at the queue's
//     CPU; MSI signals every queue through one message; a line asserts one
//     level-triggered line and sets bits in a read-to-clear cause register that the
//     line ISR must read (ReadCause, with an optional MMIO read cost).
//   - Masks: per vector. Raising a masked vector does nothing; unmasking with
//     descriptors pending raises at once (no lost interrupts).
//   - Moderation: a minimum interval between interrupts per vector (ITR, rx-usecs) and/or
//     a packet-count threshold (rx-frames); deferred interrupts fire from Poll.
//
// The package does not model transmit, link state, DMA or PCIe timing: only what the
// receive interrupt path needs.
package nicmodel
