package driver

import (
	"fmt"

	"github.com/ndisbench/ndisbench/nicmodel"
)

// messageIRQ raises one platform vector: a message write.
type messageIRQ struct {
	fw Framework
	v  Vector
}

func (m messageIRQ) Raise() { m.fw.Raise(m.v) }
func (m messageIRQ) Lower() {}

// lineIRQ asserts the platform's shared line.
type lineIRQ struct{ src LineSource }

func (l lineIRQ) Raise() { l.src.Assert() }
func (l lineIRQ) Lower() { l.src.Deassert() }

// MessageIRQ returns the device end of message vector v: raising it is the device's
// message write. Program a NIC vector with it (NIC.Connect).
func MessageIRQ(fw Framework, v Vector) nicmodel.IRQ { return messageIRQ{fw, v} }

// LineIRQ returns the device end of a line connection: raising it asserts the line,
// lowering it drops the assertion.
func LineIRQ(src LineSource) nicmodel.IRQ { return lineIRQ{src} }

// Connect programs every interrupt vector of nic to what ix was granted, the way a
// miniport writes its NIC's MSI-X table or routes its line: with messages, NIC vector i
// raises message i (the grant must have at least as many messages as the NIC vectors);
// with a line, the NIC (which must then signal a line) asserts a new source on the
// platform's line. Call it from Initialize, before traffic.
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
			nic.Connect(v, MessageIRQ(fw, table[v].Vector))
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
	nic.Connect(0, LineIRQ(src))
	return nil
}
