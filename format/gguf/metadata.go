package gguf

import (
	"fmt"
	"math"
)

// Metadata is the ordered key/value section of a GGUF file. Keys keep the
// order of the file (or of Set calls), which the writer reproduces.
// The zero Metadata is empty and ready to use.
type Metadata struct {
	keys []string
	kv   map[string]Value
}

// Len is the number of keys.
func (m *Metadata) Len() int { return len(m.keys) }

// Keys returns the keys in order. The slice is a copy.
func (m *Metadata) Keys() []string { return append([]string(nil), m.keys...) }

// Has reports whether key is present.
func (m *Metadata) Has(key string) bool { _, ok := m.kv[key]; return ok }

// Get returns the value stored under key.
func (m *Metadata) Get(key string) (Value, bool) {
	v, ok := m.kv[key]
	return v, ok
}

// Set stores x under key (see ValueOf for the accepted Go types),
// replacing an existing value in place or appending a new key.
func (m *Metadata) Set(key string, x any) error {
	v, err := ValueOf(x)
	if err != nil {
		return fmt.Errorf("gguf: metadata %q: %w", key, err)
	}
	m.set(key, v)
	return nil
}

func (m *Metadata) set(key string, v Value) {
	if m.kv == nil {
		m.kv = make(map[string]Value)
	}
	if _, ok := m.kv[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.kv[key] = v
}

// Delete removes key if present.
func (m *Metadata) Delete(key string) {
	if _, ok := m.kv[key]; !ok {
		return
	}
	delete(m.kv, key)
	for i, k := range m.keys {
		if k == key {
			m.keys = append(m.keys[:i], m.keys[i+1:]...)
			break
		}
	}
}

// Clone returns a copy whose key order and values can be changed without
// affecting m (array contents are shared; treat them as read-only).
func (m *Metadata) Clone() *Metadata {
	c := &Metadata{keys: append([]string(nil), m.keys...), kv: make(map[string]Value, len(m.kv))}
	for k, v := range m.kv {
		c.kv[k] = v
	}
	return c
}

// String returns the string stored under key.
func (m *Metadata) String(key string) (string, bool) {
	return m.kv[key].Str()
}

// Int returns an integer of any integer type stored under key, if it fits in an int.
func (m *Metadata) Int(key string) (int, bool) {
	i, ok := m.kv[key].Int()
	if !ok || int64(int(i)) != i {
		return 0, false
	}
	return int(i), true
}

// Uint32 returns an integer of any integer type stored under key, if it fits in a uint32.
func (m *Metadata) Uint32(key string) (uint32, bool) {
	u, ok := m.kv[key].Uint()
	if !ok || u > math.MaxUint32 {
		return 0, false
	}
	return uint32(u), true
}

// Uint64 returns a non-negative integer of any integer type stored under key.
func (m *Metadata) Uint64(key string) (uint64, bool) { return m.kv[key].Uint() }

// Float32 returns a float (or integer) stored under key as float32.
func (m *Metadata) Float32(key string) (float32, bool) {
	f, ok := m.kv[key].Float()
	return float32(f), ok
}

// Float64 returns a float (or integer) stored under key as float64.
func (m *Metadata) Float64(key string) (float64, bool) { return m.kv[key].Float() }

// Bool returns a bool stored under key.
func (m *Metadata) Bool(key string) (bool, bool) { return m.kv[key].Bool() }

// Strings returns a string array stored under key (shared, not copied).
func (m *Metadata) Strings(key string) ([]string, bool) { return m.kv[key].Strings() }

// Float32s returns an array of floats (or integers) stored under key as []float32.
func (m *Metadata) Float32s(key string) ([]float32, bool) {
	v := m.kv[key]
	if a, ok := v.arr.([]float32); ok && v.typ == Array {
		return a, true
	}
	f, ok := v.Floats()
	if !ok {
		return nil, false
	}
	out := make([]float32, len(f))
	for i, x := range f {
		out[i] = float32(x)
	}
	return out, true
}

// Int32s returns an array of integers stored under key as []int32; ok is
// false when an element does not fit.
func (m *Metadata) Int32s(key string) ([]int32, bool) {
	v := m.kv[key]
	if a, ok := v.arr.([]int32); ok && v.typ == Array {
		return a, true
	}
	ints, ok := v.Ints()
	if !ok {
		return nil, false
	}
	out := make([]int32, len(ints))
	for i, x := range ints {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// Ints returns an array of integers stored under key as []int.
func (m *Metadata) Ints(key string) ([]int, bool) {
	ints, ok := m.kv[key].Ints()
	if !ok {
		return nil, false
	}
	out := make([]int, len(ints))
	for i, x := range ints {
		if int64(int(x)) != x {
			return nil, false
		}
		out[i] = int(x)
	}
	return out, true
}

// Arch returns general.architecture, or "" when absent.
func (m *Metadata) Arch() string {
	s, _ := m.String(KeyArchitecture)
	return s
}

// ArchKey returns the architecture-scoped key "<arch>.<suffix>", e.g.
// ArchKey("context_length") is "qwen3.context_length" in a qwen3 file.
func (m *Metadata) ArchKey(suffix string) string { return m.Arch() + "." + suffix }

// FileType returns general.file_type, the quantization mix of the file.
func (m *Metadata) FileType() (FileType, bool) {
	u, ok := m.Uint32(KeyFileType)
	return FileType(u), ok
}
