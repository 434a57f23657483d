package harness

import (
	"fmt"
	"strings"

	"github.com/ndisbench/ndisbench/nicmodel/driver"
	"github.com/ndisbench/ndisbench/nicmodel/driver/minimal"
	"github.com/ndisbench/ndisbench/nicmodel/driver/reference"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// drivers are the drivers a scenario may name (key "driver", flag -driver). Adding one
// is one package (a driver.Miniport and its Info) and one line here.
var drivers = []func() driver.Info{
	reference.Info,
	minimal.Info,
}

// Drivers returns the registered drivers, in registration order.
func Drivers() []driver.Info {
	out := make([]driver.Info, len(drivers))
	for i, info := range drivers {
		out[i] = info()
	}
	return out
}

// LookupDriver returns the registered driver called name.
func LookupDriver(name string) (driver.Info, bool) {
	for _, info := range drivers {
		if d := info(); d.Name == name {
			return d, true
		}
	}
	return driver.Info{}, false
}

// CheckDriver returns nil when name is a registered driver, else a *scenario.KeyError
// for the key "driver" that lists the registered ones.
func CheckDriver(name string) error {
	if _, ok := LookupDriver(name); ok {
		return nil
	}
	return &scenario.KeyError{Key: "driver", Msg: fmt.Sprintf("%q is not a registered driver (want one of %s)", name, driverNames())}
}

// driverNames lists the registered drivers' names, for errors.
func driverNames() string {
	var names []string
	for _, d := range Drivers() {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}
