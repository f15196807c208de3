package dl

import (
	"testing"
	"unsafe"
)

// TestCall16 calls snprintf with a format that prints all 13 variadic
// arguments after buf, size and format: every argument register and stack
// slot must arrive in order.
func TestCall16(t *testing.T) {
	if !Has16 {
		t.Skip("Call16 needs linux/amd64")
	}
	libc, err := Open("libc.so.6")
	if err != nil {
		t.Skipf("no libc: %v", err)
	}
	snprintf, err := libc.Func("snprintf")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	format := CString("%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld")
	args := []uintptr{uintptr(unsafePtr(buf)), uintptr(len(buf)), uintptr(unsafePtr(format))}
	for i := range 13 {
		args = append(args, uintptr(101+i*7))
	}
	n := Call16(snprintf, args...)
	got := GoString(uintptr(unsafePtr(buf)))
	want := "101 108 115 122 129 136 143 150 157 164 171 178 185"
	if got != want || int(n) != len(want) {
		t.Fatalf("snprintf returned %d, wrote %q, want %q", n, got, want)
	}
}

func unsafePtr(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
