package core

import (
	"strings"
	"testing"
)

// TestIdleFallback: on Linux every idle strategy runs as designed; elsewhere spin-park
// and spin-yield say what they do instead, naming the OS. Checked on Linux for the
// other systems' text.
func TestIdleFallback(t *testing.T) {
	tests := []struct {
		idle IdleStrategy
		goos string
		want string // "" for none
	}{
		{IdleSpinPark, "linux", ""},
		{IdleSpinYield, "linux", ""},
		{IdleSpin, "linux", ""},
		{IdleSpin, "darwin", ""}, // spinning needs nothing from the OS
		{IdleSpinPark, "darwin", "no futex on darwin"},
		{IdleSpinPark, "windows", "no futex on windows"},
		{IdleSpinYield, "darwin", "no sched_yield on darwin"},
	}
	for _, tt := range tests {
		got := IdleFallback(tt.idle, tt.goos)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("IdleFallback(%v, %s) = %q, want %q", tt.idle, tt.goos, got, tt.want)
		}
	}
}
