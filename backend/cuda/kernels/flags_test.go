package kernels

import (
	"slices"
	"testing"
)

func TestFlags(t *testing.T) {
	base := []string{"--std=c++17", "-default-device"}
	for _, c := range []struct {
		prefetch, defines string
		want              []string
	}{
		{"", "", base},
		{"1", "", base},
		{"0", "", append(slices.Clone(base), "-DRLX_PREFETCH=0")},
		{"", "QI_ROWS=2, B ,", append(slices.Clone(base), "-DQI_ROWS=2", "-DB")},
	} {
		if got := flags(c.prefetch, c.defines); !slices.Equal(got, c.want) {
			t.Errorf("flags(%q, %q) = %q, want %q", c.prefetch, c.defines, got, c.want)
		}
	}
}
