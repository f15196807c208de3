package cpuinfo

import "testing"

func TestActiveNeverExceedsHardware(t *testing.T) {
	cases := []struct {
		hw   Level
		env  string
		want Level
	}{
		{AVX512, "", AVX512},
		{AVX512, "avx2", AVX2},
		{AVX512, "generic", Generic},
		{AVX2, "avx512", AVX2},
		{Generic, "avx2", Generic},
		{AVX2, "bogus", AVX2},
	}
	for _, c := range cases {
		if got := active(c.hw, c.env); got != c.want {
			t.Errorf("active(%v, %q) = %v, want %v", c.hw, c.env, got, c.want)
		}
	}
}
