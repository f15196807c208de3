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

// TestConformancePackedHalf repeats the suite with 16-bit weights packed
// into float32 panels (the other matmul path) and another seed.
func TestConformancePackedHalf(t *testing.T) {
	backendtest.Suite(t, cpu.New(cpu.Options{Poison: true, PackHalfWeights: true}), 2)
}
