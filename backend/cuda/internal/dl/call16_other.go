//go:build !(linux && amd64)

package dl

// Call16 is not implemented here; Has16 is false.
func Call16(fn uintptr, args ...uintptr) uintptr { panic("dl: Call16 needs linux/amd64") }

// Has16 reports whether Call16 works on this system.
const Has16 = false
