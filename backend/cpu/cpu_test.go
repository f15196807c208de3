package cpu_test

import (
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
)

// TestConformance runs every op of the catalog against the float64
// reference, fused and unfused, with freed buffers poisoned.
func TestConformance(t *testing.T) {
	backendtest.Suite(t, cpu.New(cpu.Options{Poison: true}), 1)
}
