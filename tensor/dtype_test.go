package tensor

import "testing"

func TestDTypeLayout(t *testing.T) {
	// Block sizes in bytes as the GGUF format defines them.
	want := map[DType][2]int{
		F32: {1, 4}, F16: {1, 2}, BF16: {1, 2},
		Q4_0: {32, 18}, Q4_1: {32, 20}, Q5_0: {32, 22}, Q5_1: {32, 24}, Q8_0: {32, 34},
		Q2_K: {256, 84}, Q3_K: {256, 110}, Q4_K: {256, 144}, Q5_K: {256, 176},
		Q6_K: {256, 210}, Q8_K: {256, 292}, IQ4_NL: {32, 18}, IQ4_XS: {256, 136},
	}
	for d, w := range want {
		if d.BlockSize() != w[0] || d.BlockBytes() != w[1] {
			t.Errorf("%v: block %d/%d bytes, want %d/%d", d, d.BlockSize(), d.BlockBytes(), w[0], w[1])
		}
	}
	for _, d := range AllDTypes() {
		p, err := ParseDType(d.String())
		if err != nil || p != d {
			t.Errorf("ParseDType(%q) = %v, %v", d.String(), p, err)
		}
	}
	if _, err := Q4_K.RowBytes(100); err == nil {
		t.Error("partial block accepted")
	}
	if n, err := Q4_K.RowBytes(512); err != nil || n != 288 {
		t.Errorf("RowBytes = %d, %v", n, err)
	}
	if _, err := F32.RowBytes(1 << 62); err == nil {
		t.Error("overflow accepted")
	}
}
