package affinity

import "fmt"

// Unsupported says why threads cannot be pinned at all on goos, for a run to record and
// print; "" on Linux, where Pin sets the thread's affinity (and may still be refused:
// ErrPinRefused). Elsewhere every Pin fails with this text.
func Unsupported(goos string) string {
	if goos == "linux" {
		return ""
	}
	return fmt.Sprintf("pinning is not supported on %s: threads run wherever the OS puts them", goos)
}
