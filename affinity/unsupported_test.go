package affinity

import (
	"runtime"
	"strings"
	"testing"
)

// TestUnsupported: the text a run records when it cannot pin, checked on Linux for the
// systems where it applies.
func TestUnsupported(t *testing.T) {
	if s := Unsupported("linux"); s != "" {
		t.Errorf("linux: %q", s)
	}
	for _, goos := range []string{"darwin", "windows"} {
		if s := Unsupported(goos); !strings.Contains(s, "pinning is not supported on "+goos) {
			t.Errorf("%s: %q", goos, s)
		}
	}
	// Here, Pin agrees: where Unsupported has text, every Pin fails with it.
	undo, err := Pin(0)
	if why := Unsupported(runtime.GOOS); why != "" {
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: Pin(0) = %v, want an error saying %q", runtime.GOOS, err, why)
		}
	} else if err == nil {
		undo()
	}
}
