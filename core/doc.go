// Package core is ndisbench's executable model of the NDIS miniport interrupt contract
// (DESIGN.md §1, rules R1–R11) and the CPU-pinned executor it runs on.
//
// # The machine
//
// A Platform is the simulated machine. Each of its vCPUs is a goroutine locked to an OS
// thread and pinned, where the OS allows it, to one real CPU. A vCPU's loop serves, in
// priority order: pending interrupts (an atomic pending-vector mask that devices set, like
// a local APIC's IRR), then its DPC queue (a lock-free MPSC ring: DPCs run at "dispatch
// level", to completion, never blocking), then idles with the configured strategy: spin,
// spin-yield, or spin-park (spin, then park on a futex; wakers issue a futex wake only
// when the vCPU is actually parked). Delivery from Raise to the ISR neither allocates nor
// takes a lock. Interrupts are served between DPCs, not in the middle of one: a Go
// function cannot be preempted by an interrupt, so irq_delivery includes the rest of the
// DPC that was running, which a real CPU would interrupt.
//
// # How the NDIS names map
//
//	NDIS                                     ndisbench
//	NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS  InterruptCharacteristics (validated: R1)
//	  InterruptHandler (MiniportInterrupt)     .ISR             ISRFunc
//	  InterruptDpcHandler                      .DPC             DPCFunc
//	  Disable/EnableInterruptHandler           .Disable/.Enable InterruptControlFunc (NDIS's diagnostics call them; runs never do)
//	  MsiSupported, MsiSyncWithAllMessages     .MSISupported, .MSISyncWithAllMessages (R5)
//	  MessageInterruptHandler                  .MessageISR      MessageISRFunc
//	  MessageInterruptDpcHandler               .MessageDPC      MessageDPCFunc
//	  Disable/EnableMessageInterruptHandler    .DisableMessage/.EnableMessage
//	  InterruptType                            Interrupt.Type (LineBased, MessageBased: R2)
//	  MessageInfoTable                         Interrupt.MessageTable ([]MessageInfo, a copy)
//	NdisMRegisterInterruptEx                 Platform.RegisterInterrupt
//	NdisMDeregisterInterruptEx               Interrupt.Deregister (R11)
//	ISR return value / *QueueDefaultInterruptDpc / *TargetProcessors
//	                                         ISRResult{Recognized, QueueDefaultDPC, TargetCPUs} (R3, R4)
//	MessageId                                MessageID
//	NdisMQueueDpcEx                          Interrupt.QueueDPC, DPCCall.QueueDPC (R6, R7)
//	MiniportDpcContext                       DPCCall.Context (nil for ISR-targeted DPCs: R7)
//	NDIS_RECEIVE_THROTTLE_PARAMETERS         DPCCall.Throttle (ReceiveThrottle: MaxNBLs, MorePending: R8)
//	NDIS_INDICATE_ALL_NBLS                   IndicateAll
//	NdisMIndicateReceiveNetBufferLists       DPCCall.Indicate → Stack.Indicate
//	NET_BUFFER_LIST                          NBL
//	interrupt DPC batch, DPC watchdog        per-message batch tracking, PlatformConfig.Budget (R9)
//	the NIC's interrupt mask register        written by the miniport (nicmodel.NIC.Mask, Unmask); the NIC
//	                                         reports each write to Interrupt.DeviceMasked (R9)
//	processor, KDPC queue                    vCPU, its MPSC DPC queue
//	IRQ line (level-triggered, shareable)    LineSource.Assert/Deassert on the platform's one line
//	MSI / MSI-X message write                Platform.Raise(Vector)
//
// # Guarantees the framework gives and checks
//
// Registration rejects a malformed InterruptCharacteristics with a *FieldError naming
// the field (R1) and grants line or messages by what the platform offers (R2). A line is
// level-triggered and shared: its sharers' ISRs run in registration order until one
// claims it, and the line is delivered again after them while any device still asserts
// it (R3); as on an I/O APIC, an assertion made while they run is no second delivery.
// An interrupt nobody claims is counted: unclaimed when a device kept asserting the line,
// self-inflicted (self_spurious) when the device that asserted it had nothing to report.
// The DPCs a line ISR asks for are queued whether or not it claimed (R4). A message ISR that says "not mine" is a counted
// violation (R3). With MSISyncWithAllMessages, no two message ISRs of the interrupt run at
// once (R5). There is one DPC object per (message, vCPU); queueing a queued object is a
// no-op, and QueueDPC returns the CPUs where it newly queued (R6). Every DPC call gets the
// platform's throttle; "more pending" makes the vCPU call it again later on the same CPU,
// and re-enabling interrupts in such a call, or indicating past the limit, is a violation
// (R8). A batch runs from the first ISR until the device is re-enabled — the miniport's
// DPC writes the NIC's mask register, and the device reports it (Interrupt.DeviceMasked):
// NDIS itself never sees that write, and calls the registered disable and enable
// handlers only for diagnostics, which runs never make. A batch whose DPCs all returned
// with the device still masked is a violation, and batches and DPCs over the budget are
// counted (R9), as are ISRs over 25 µs (ISRBudget: the DPC watchdog's guidance). When Deregister returns, none of the interrupt's handlers is
// running and none will run again (R11).
//
// Receive-side scaling (R10) lives in package nicmodel and the reference miniport.
//
// # What it measures
//
// Each vCPU records into its own HDR histograms (irq_delivery, isr_duration,
// isr_to_dpc_same_cpu / isr_to_dpc_cross_cpu, dpc_duration, dpc_batch_size,
// batch_duration; DESIGN.md §3; package results/metric says what each means) and
// counters; Platform.Metrics merges them after Stop.
//
// # Seams
//
// Time: every timestamp and every injected cost goes through the platform's Clock
// (PlatformConfig.Clock; the zero Clock is the real one), which code running on
// the platform reaches through Platform.Clock. Events: an Observer
// (PlatformConfig.Observer), nil by default, is told of every raise, ISR, DPC queueing,
// DPC, re-enable and batch end on the vCPU where it happens; a timeline trace or an
// external checker plugs in there.
//
// A miniport author does not start here: package nicmodel/driver holds the interfaces a
// driver implements and calls, in the words of this package's types. The histogram
// plumbing lives in core/hist, the machine's floors in core/calibrate.
//
// Package core does not model IRQL levels beyond "ISR before DPC before idle", interrupt
// priorities between vectors, or preemption of a running DPC by an interrupt.
package core
