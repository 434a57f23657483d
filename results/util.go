package results

import (
	"maps"
	"slices"
)

// sortedKeys returns m's keys in increasing order, for deterministic output.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}
