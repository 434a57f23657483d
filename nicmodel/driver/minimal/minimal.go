// Package minimal is a complete small miniport: the one to copy when writing your own.
// It registers one interrupt that supports MSI, handles a message grant or a line (R2),
// masks the NIC's interrupt in its ISRs (the line ISR by its cause read, which masks the
// NIC) and queues one DPC on the CPU the ISR ran on, indicates at most the throttle limit
// per DPC call (R8), and re-enables the NIC's interrupt from the batch's last DPC (R9).
// Masking and re-enabling are NIC register writes (nicmodel.NIC.Mask, Unmask), as in a
// real miniport; the Disable and Enable handlers it registers do the same writes, for
// NDIS's diagnostics to call. Unlike
// the reference miniport it never fans DPCs out to other CPUs and ignores RSS: a
// message's DPC drains every queue the message signals.
//
// It runs as "bench run -driver minimal" (package harness registers it). Package
// driver's Example shows this code and runs it end to end with every invariant checked
// (a test keeps the two the same).
package minimal

import (
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/driver"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// Info returns the registry entry of this driver.
func Info() driver.Info {
	return driver.Info{Name: "minimal", Summary: "a complete small miniport to copy: one DPC per interrupt on the ISR's CPU", New: New}
}

// Miniport is the driver. A message's queues are drained only by that message's DPC,
// which runs on one CPU, so each RX ring keeps its one consumer.
type Miniport struct {
	nic    *nicmodel.NIC
	ix     driver.Interrupt
	queues [][]int        // per message: the queues it signals (a line: all of them)
	buf    [][]driver.NBL // per CPU: descriptors taken, up to one indication
}

var _ driver.Miniport = (*Miniport)(nil)

// New returns a miniport; it reads nothing from the scenario.
func New(scenario.Scenario) (driver.Miniport, error) { return &Miniport{}, nil }

// Initialize registers the interrupt, connects the NIC's vectors to the grant, and notes
// which queues each message drains.
func (m *Miniport) Initialize(fw driver.Framework, nic *nicmodel.NIC) error {
	ix, err := fw.RegisterInterrupt(m, driver.InterruptCharacteristics{
		ISR:            m.lineISR,
		DPC:            func(_ any, c *driver.DPCCall) { m.dpc(0, c) },
		Disable:        func(any) { nic.Mask(0) },
		Enable:         func(any) { nic.Unmask(0) },
		MSISupported:   true,
		MessageISR:     m.messageISR,
		MessageDPC:     func(_ any, msg driver.MessageID, c *driver.DPCCall) { m.dpc(msg, c) },
		DisableMessage: func(_ any, msg driver.MessageID) { nic.Mask(int(msg)) },
		EnableMessage:  func(_ any, msg driver.MessageID) { nic.Unmask(int(msg)) },
	})
	if err != nil {
		return err
	}
	if err := driver.Connect(fw, ix, nic); err != nil {
		ix.Deregister()
		return err
	}
	m.nic, m.ix = nic, ix
	m.queues = make([][]int, ix.Messages())
	for q := 0; q < nic.Queues(); q++ {
		msg := 0
		if ix.Type() == driver.MessageBased {
			msg = nic.VectorOf(q)
		}
		m.queues[msg] = append(m.queues[msg], q)
	}
	for c := 0; c < fw.VCPUs(); c++ {
		m.buf = append(m.buf, make([]driver.NBL, 64))
	}
	return nil
}

// Halt deregisters the interrupt (R11).
func (m *Miniport) Halt() { m.ix.Deregister() }

// lineISR reads (and so clears) the cause register: nothing there means another device
// on the shared line raised it (R3). Otherwise the read has masked the NIC's interrupt
// too (nicmodel.NIC.ReadCause), and the ISR queues the DPC here (R4).
func (m *Miniport) lineISR(any) driver.ISRResult {
	if m.nic.ReadCause() == 0 {
		return driver.ISRResult{} // not mine
	}
	return driver.ISRResult{Recognized: true, QueueDefaultDPC: true}
}

// messageISR always claims: messages are never shared (R3). It masks the message on the
// NIC (a register write) and queues the DPC here. A message already masked was raised
// just before its ISR masked it: the open batch's DPC will see the work.
func (m *Miniport) messageISR(_ any, msg driver.MessageID) driver.ISRResult {
	if m.nic.Masked(int(msg)) {
		return driver.ISRResult{Recognized: true}
	}
	m.nic.Mask(int(msg))
	return driver.ISRResult{Recognized: true, QueueDefaultDPC: true}
}

// dpc indicates what msg's queues hold, at most the throttle limit (R8); with work left
// it asks to be called again and stays masked, else it re-enables the NIC's interrupt
// (a register write): it is the batch's last DPC (R9).
func (m *Miniport) dpc(msg driver.MessageID, c *driver.DPCCall) {
	buf, left := m.buf[c.CPU], c.Throttle.MaxNBLs
	for _, q := range m.queues[msg] {
		for left > 0 {
			n := m.nic.Take(q, buf[:min(len(buf), left)])
			if n == 0 {
				break
			}
			c.Indicate(buf[:n])
			for _, nbl := range buf[:n] {
				m.nic.Return(q, nbl.Buf) // the stack has consumed it
			}
			left -= n
		}
	}
	for _, q := range m.queues[msg] {
		if left == 0 && m.nic.Pending(q) > 0 {
			c.Throttle.MorePending = true
			return
		}
	}
	m.nic.Unmask(int(msg))
}
