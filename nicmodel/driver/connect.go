package driver

import (
	"fmt"

	"github.com/ndisbench/ndisbench/nicmodel"
)

// messageIRQ raises one platform vector, a message write, and reports the message's
// mask to its interrupt.
type messageIRQ struct {
	fw  Framework
	v   Vector
	ix  Interrupt
	msg MessageID
}

func (m messageIRQ) Raise()                { m.fw.Raise(m.v) }
func (m messageIRQ) Lower()                {}
func (m messageIRQ) SetMasked(masked bool) { m.ix.DeviceMasked(m.msg, masked) }

// lineIRQ asserts the platform's shared line and reports the device's mask to its
// interrupt.
type lineIRQ struct {
	src LineSource
	ix  Interrupt
}

func (l lineIRQ) Raise()                { l.src.Assert() }
func (l lineIRQ) Lower()                { l.src.Deassert() }
func (l lineIRQ) SetMasked(masked bool) { l.ix.DeviceMasked(0, masked) }

// MessageIRQ returns the device end of message msg of ix, whose vector is v: raising it
// is the device's message write; its mask writes are reported to ix
// (Interrupt.DeviceMasked). Program a NIC vector with it (NIC.Connect).
func MessageIRQ(fw Framework, ix Interrupt, msg MessageID, v Vector) nicmodel.IRQ {
	return messageIRQ{fw, v, ix, msg}
}

// LineIRQ returns the device end of a line connection of ix: raising it asserts the
// line, lowering it drops the assertion; its mask writes are reported to ix.
func LineIRQ(src LineSource, ix Interrupt) nicmodel.IRQ { return lineIRQ{src, ix} }

// Connect programs every interrupt vector of nic to what ix was granted, the way a
// miniport writes its NIC's MSI-X table or routes its line: with messages, NIC vector i
// raises message i (the grant must have at least as many messages as the NIC vectors);
// with a line, the NIC (which must then signal a line) asserts a new source on the
// platform's line. Each vector's mask register is wired to ix too, so that the framework
// sees the miniport mask and re-enable the device (R9). Call it from Initialize, before
// traffic.
func Connect(fw Framework, ix Interrupt, nic *nicmodel.NIC) error {
	if ix.Type() == MessageBased {
		table := ix.MessageTable()
		if nic.Vectors() > len(table) {
			return fmt.Errorf("driver: connect: the NIC has %d vectors, the grant %d messages", nic.Vectors(), len(table))
		}
		if nic.Config().Mode == nicmodel.ModeLine {
			return fmt.Errorf("driver: connect: granted messages, but the NIC signals a line: configure the NIC for msi or msix")
		}
		for v := 0; v < nic.Vectors(); v++ {
			nic.Connect(v, MessageIRQ(fw, ix, table[v].ID, table[v].Vector))
		}
		return nil
	}
	if nic.Config().Mode != nicmodel.ModeLine {
		return fmt.Errorf("driver: connect: granted a line, but the NIC signals %v: configure the NIC for line", nic.Config().Mode)
	}
	src, err := fw.NewLineSource()
	if err != nil {
		return fmt.Errorf("driver: connect: %w", err)
	}
	nic.Connect(0, LineIRQ(src, ix))
	return nil
}
