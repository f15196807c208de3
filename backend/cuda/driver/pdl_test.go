package driver

import (
	"testing"
	"unsafe"
)

// TestLaunchConfigLayout pins the Go mirrors of CUlaunchConfig and
// CUlaunchAttribute to cuda.h's layout on 64-bit systems.
func TestLaunchConfigLayout(t *testing.T) {
	var c launchConfig
	var a launchAttribute
	for _, x := range []struct {
		what      string
		got, want uintptr
	}{
		{"sizeof(CUlaunchConfig)", unsafe.Sizeof(c), 56},
		{"hStream", unsafe.Offsetof(c.stream), 32},
		{"attrs", unsafe.Offsetof(c.attrs), 40},
		{"numAttrs", unsafe.Offsetof(c.numAttrs), 48},
		{"sizeof(CUlaunchAttribute)", unsafe.Sizeof(a), 72},
		{"value", unsafe.Offsetof(a.value), 8},
	} {
		if x.got != x.want {
			t.Errorf("%s = %d, want %d", x.what, x.got, x.want)
		}
	}
}

// TestSetPDL checks that SetPDL reports and restores the setting.
func TestSetPDL(t *testing.T) {
	was := SetPDL(false)
	if SetPDL(true) {
		t.Error("SetPDL(false) did not turn PDL off")
	}
	SetPDL(was)
}
