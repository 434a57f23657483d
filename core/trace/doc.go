// Package trace records a timeline of a platform's interrupts and DPCs and writes it as
// Chrome Trace Event JSON, which Perfetto UI (ui.perfetto.dev) and chrome://tracing open.
//
// A Recorder is a core.Observer (PlatformConfig.Observer). It keeps, for a bounded
// window of the run, every event the observer seam reports, in buffers of fixed size
// made when the Recorder is: one per vCPU, one for the events outside any vCPU, and one
// for the load generator's writes (GeneratorWrote). Observe allocates nothing, takes no
// lock, and records an event by copying a few fields into the buffer of the vCPU it
// happened on; an event that does not fit is counted, never silently dropped (Stats).
// After the run, WriteTo writes the window: a track per vCPU with its ISRs and DPCs as
// slices, raises and re-enables as instants, interrupt DPC batches as async slices, an
// arrow from each ISR or DPC that queued a DPC to that DPC's start, and the generator's
// writes as a counter.
//
// The window is either the first Config.Window of the measured run (AtStart), or a
// window of that length around the run's longest interrupt DPC batch (AtWorst): see At.
//
// The package does not run anything and does not decide where its output goes: the
// harness (nicmodel/harness) wires a Recorder into a run, and bench run -trace writes the
// file. Recording costs the hot path nothing when no Recorder is installed: the platform
// then builds no event at all.
package trace
