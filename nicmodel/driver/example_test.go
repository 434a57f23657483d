package driver_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/driver"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

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

// A complete small miniport (the code above, which is package nicmodel/driver/minimal:
// copy it to start your own), run end to end: 100 ms of MSI-X traffic over two queues
// on two vCPUs, then the drain, Halt and every invariant of DESIGN.md §5 checked. A
// driver runs the same way from its factory; registered in package harness, it runs as
// "bench run -driver NAME" too (minimal is: "bench run -driver minimal").
func Example() {
	sc := scenario.Default()
	sc.Mode, sc.VCPUs, sc.Queues = nicmodel.ModeMSIX, 2, 2
	sc.Idle, sc.NoPin = core.IdleSpinPark, true // behaves on one CPU too
	sc.Duration, sc.Warmup, sc.Schedule.RatePPS = 100*time.Millisecond, 10*time.Millisecond, 100e3

	rep, err := harness.Run(context.Background(), sc, harness.Options{Driver: driver.Info{Name: "mine", New: New}})
	if err != nil {
		fmt.Println(err) // a bad scenario, a driver that cannot start, or a broken invariant
		return
	}
	c := rep.Counters
	fmt.Println("driver:", rep.Scenario.Driver)
	fmt.Println("every invariant held:", rep.Err() == nil)
	fmt.Println("every packet written was indicated once, in order:", c["indicated"] == c["written"] && c["written"] > 0)
	fmt.Println("contract violations:", c["violations"])
	fmt.Println("both queues' DPCs ran:", rep.PerCPU[0] > 0 && rep.PerCPU[1] > 0)
	// Output:
	// driver: mine
	// every invariant held: true
	// every packet written was indicated once, in order: true
	// contract violations: 0
	// both queues' DPCs ran: true
}
