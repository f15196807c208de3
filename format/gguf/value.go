package gguf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ValueType is the type code of a metadata value.
type ValueType uint32

// Metadata value types, as numbered in the GGUF specification.
const (
	Uint8   ValueType = 0
	Int8    ValueType = 1
	Uint16  ValueType = 2
	Int16   ValueType = 3
	Uint32  ValueType = 4
	Int32   ValueType = 5
	Float32 ValueType = 6
	Bool    ValueType = 7
	String  ValueType = 8
	Array   ValueType = 9
	Uint64  ValueType = 10
	Int64   ValueType = 11
	Float64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

// String returns the specification's lower-case name of t.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("value_type(%d)", uint32(t))
}

// size is the encoded size of a fixed-size scalar, 0 for strings and arrays.
func (t ValueType) size() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16:
		return 2
	case Uint32, Int32, Float32:
		return 4
	case Uint64, Int64, Float64:
		return 8
	}
	return 0
}

func (t ValueType) valid() bool { return t <= Float64 }

// Value is one metadata value: a scalar, a string, or an array whose
// elements share one type (arrays may nest). The zero Value is invalid.
//
// Arrays keep a typed Go slice ([]uint32, []string, []Value for nested
// arrays, …), so large arrays such as a tokenizer's vocabulary cost one
// allocation rather than one per element.
type Value struct {
	typ  ValueType
	elem ValueType // element type, for arrays
	ok   bool
	bits uint64 // integers (two's complement), float bits, bool
	str  string
	arr  any // []uint8 … []float64, []bool, []string, []Value
}

// Type is the value's type; ArrayOf-made values report Array.
func (v Value) Type() ValueType { return v.typ }

// Elem is the element type of an array value (meaningless otherwise).
func (v Value) Elem() ValueType { return v.elem }

// Valid reports whether v holds a value (the zero Value does not).
func (v Value) Valid() bool { return v.ok }

// Len is the number of elements of an array or bytes of a string, 0 otherwise.
func (v Value) Len() int {
	switch v.typ {
	case String:
		return len(v.str)
	case Array:
		return arrayLen(v.arr)
	}
	return 0
}

func arrayLen(a any) int {
	switch a := a.(type) {
	case []uint8:
		return len(a)
	case []int8:
		return len(a)
	case []uint16:
		return len(a)
	case []int16:
		return len(a)
	case []uint32:
		return len(a)
	case []int32:
		return len(a)
	case []float32:
		return len(a)
	case []bool:
		return len(a)
	case []string:
		return len(a)
	case []uint64:
		return len(a)
	case []int64:
		return len(a)
	case []float64:
		return len(a)
	case []Value:
		return len(a)
	}
	return 0
}

// ValueOf builds a Value from a Go value: an integer or float of a fixed
// size (uint8 … float64), bool, string, a slice of one of those, or a
// []Value of arrays (a nested array; every element must be an array).
// int and uint are stored as int64 and uint64.
func ValueOf(x any) (Value, error) {
	switch x := x.(type) {
	case Value:
		if !x.ok {
			return Value{}, fmt.Errorf("gguf: invalid Value")
		}
		return x, nil
	case uint8:
		return Value{typ: Uint8, ok: true, bits: uint64(x)}, nil
	case int8:
		return Value{typ: Int8, ok: true, bits: uint64(int64(x))}, nil
	case uint16:
		return Value{typ: Uint16, ok: true, bits: uint64(x)}, nil
	case int16:
		return Value{typ: Int16, ok: true, bits: uint64(int64(x))}, nil
	case uint32:
		return Value{typ: Uint32, ok: true, bits: uint64(x)}, nil
	case int32:
		return Value{typ: Int32, ok: true, bits: uint64(int64(x))}, nil
	case float32:
		return Value{typ: Float32, ok: true, bits: uint64(math.Float32bits(x))}, nil
	case bool:
		v := Value{typ: Bool, ok: true}
		if x {
			v.bits = 1
		}
		return v, nil
	case string:
		return Value{typ: String, ok: true, str: x}, nil
	case uint64:
		return Value{typ: Uint64, ok: true, bits: x}, nil
	case int64:
		return Value{typ: Int64, ok: true, bits: uint64(x)}, nil
	case int:
		return Value{typ: Int64, ok: true, bits: uint64(int64(x))}, nil
	case uint:
		return Value{typ: Uint64, ok: true, bits: uint64(x)}, nil
	case float64:
		return Value{typ: Float64, ok: true, bits: math.Float64bits(x)}, nil
	case []uint8:
		return arrayValue(Uint8, x), nil
	case []int8:
		return arrayValue(Int8, x), nil
	case []uint16:
		return arrayValue(Uint16, x), nil
	case []int16:
		return arrayValue(Int16, x), nil
	case []uint32:
		return arrayValue(Uint32, x), nil
	case []int32:
		return arrayValue(Int32, x), nil
	case []float32:
		return arrayValue(Float32, x), nil
	case []bool:
		return arrayValue(Bool, x), nil
	case []string:
		return arrayValue(String, x), nil
	case []uint64:
		return arrayValue(Uint64, x), nil
	case []int64:
		return arrayValue(Int64, x), nil
	case []int:
		a := make([]int64, len(x))
		for i, e := range x {
			a[i] = int64(e)
		}
		return arrayValue(Int64, a), nil
	case []float64:
		return arrayValue(Float64, x), nil
	case []Value:
		for i, e := range x {
			if !e.ok || e.typ != Array {
				return Value{}, fmt.Errorf("gguf: nested array element %d is not an array", i)
			}
		}
		return arrayValue(Array, x), nil
	}
	return Value{}, fmt.Errorf("gguf: cannot store %T as a metadata value", x)
}

func arrayValue(elem ValueType, a any) Value {
	return Value{typ: Array, elem: elem, ok: true, arr: a}
}

// Int returns an integer value of any integer type as int64. ok is false
// for non-integers and for uint64 values above math.MaxInt64.
func (v Value) Int() (int64, bool) {
	if !v.ok {
		return 0, false
	}
	switch v.typ {
	case Uint8, Uint16, Uint32:
		return int64(v.bits), true
	case Int8, Int16, Int32, Int64:
		return int64(v.bits), true
	case Uint64:
		if v.bits > math.MaxInt64 {
			return 0, false
		}
		return int64(v.bits), true
	}
	return 0, false
}

// Uint returns a non-negative integer value of any integer type as uint64.
func (v Value) Uint() (uint64, bool) {
	if !v.ok {
		return 0, false
	}
	switch v.typ {
	case Uint8, Uint16, Uint32, Uint64:
		return v.bits, true
	case Int8, Int16, Int32, Int64:
		if int64(v.bits) < 0 {
			return 0, false
		}
		return v.bits, true
	}
	return 0, false
}

// Float returns a float value, or an integer value converted, as float64.
func (v Value) Float() (float64, bool) {
	if !v.ok {
		return 0, false
	}
	switch v.typ {
	case Float32:
		return float64(math.Float32frombits(uint32(v.bits))), true
	case Float64:
		return math.Float64frombits(v.bits), true
	case Uint64:
		return float64(v.bits), true
	}
	if i, ok := v.Int(); ok {
		return float64(i), true
	}
	return 0, false
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) {
	if !v.ok || v.typ != Bool {
		return false, false
	}
	return v.bits != 0, true
}

// Str returns a string value. (String formats any value for display.)
func (v Value) Str() (string, bool) {
	if v.typ != String {
		return "", false
	}
	return v.str, true
}

// Strings returns a string array.
func (v Value) Strings() ([]string, bool) {
	a, ok := v.arr.([]string)
	return a, ok && v.typ == Array
}

// Array returns the typed slice behind an array value: []uint8 … []float64,
// []bool, []string, or []Value for nested arrays. The slice is shared, not
// copied.
func (v Value) Array() (any, bool) {
	if v.typ != Array {
		return nil, false
	}
	return v.arr, true
}

// Ints returns an array of any integer element type as []int64.
func (v Value) Ints() ([]int64, bool) {
	if v.typ != Array {
		return nil, false
	}
	n := arrayLen(v.arr)
	switch v.elem {
	case Uint8, Int8, Uint16, Int16, Uint32, Int32, Int64, Uint64:
	default:
		return nil, false
	}
	out := make([]int64, n)
	for i := range out {
		e, ok := v.Index(i).Int()
		if !ok {
			return nil, false
		}
		out[i] = e
	}
	return out, true
}

// Floats returns an array of float or integer elements as []float64.
func (v Value) Floats() ([]float64, bool) {
	if v.typ != Array || v.elem == String || v.elem == Bool || v.elem == Array {
		return nil, false
	}
	n := arrayLen(v.arr)
	out := make([]float64, n)
	for i := range out {
		out[i], _ = v.Index(i).Float()
	}
	return out, true
}

// Index returns element i of an array as a Value (the zero Value when v is
// not an array or i is out of range).
func (v Value) Index(i int) Value {
	if v.typ != Array || i < 0 || i >= arrayLen(v.arr) {
		return Value{}
	}
	var e any
	switch a := v.arr.(type) {
	case []uint8:
		e = a[i]
	case []int8:
		e = a[i]
	case []uint16:
		e = a[i]
	case []int16:
		e = a[i]
	case []uint32:
		e = a[i]
	case []int32:
		e = a[i]
	case []float32:
		e = a[i]
	case []bool:
		e = a[i]
	case []string:
		e = a[i]
	case []uint64:
		e = a[i]
	case []int64:
		e = a[i]
	case []float64:
		e = a[i]
	case []Value:
		return a[i]
	}
	out, _ := ValueOf(e)
	return out
}

// Interface returns v as a plain Go value: the scalar (uint8 … float64,
// bool, string) or the typed slice of an array ([]Value for nested arrays);
// nil for the zero Value.
func (v Value) Interface() any {
	if !v.ok {
		return nil
	}
	switch v.typ {
	case Uint8:
		return uint8(v.bits)
	case Int8:
		return int8(v.bits)
	case Uint16:
		return uint16(v.bits)
	case Int16:
		return int16(v.bits)
	case Uint32:
		return uint32(v.bits)
	case Int32:
		return int32(v.bits)
	case Float32:
		return math.Float32frombits(uint32(v.bits))
	case Bool:
		return v.bits != 0
	case String:
		return v.str
	case Uint64:
		return v.bits
	case Int64:
		return int64(v.bits)
	case Float64:
		return math.Float64frombits(v.bits)
	case Array:
		return v.arr
	}
	return nil
}

// String formats v for people: scalars as Go would print them, strings
// quoted, arrays in full. Use Summary for long arrays.
func (v Value) String() string { return v.Summary(-1) }

// Summary formats v like String but shows at most n elements of an array
// (n < 0: all), followed by "… (N total)"; strings longer than 4n bytes
// are shortened the same way.
func (v Value) Summary(n int) string {
	switch v.typ {
	case String:
		s := v.str
		if n >= 0 && len(s) > 4*n+16 {
			return strconv.Quote(s[:4*n+16]) + fmt.Sprintf("… (%d bytes)", len(s))
		}
		return strconv.Quote(s)
	case Float32:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(v.bits))), 'g', -1, 32)
	case Array:
		total := arrayLen(v.arr)
		k := total
		if n >= 0 && k > n {
			k = n
		}
		var b strings.Builder
		b.WriteByte('[')
		for i := 0; i < k; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.Index(i).Summary(n))
		}
		if k < total {
			fmt.Fprintf(&b, ", … (%d total)", total)
		}
		b.WriteByte(']')
		return b.String()
	}
	if !v.ok {
		return "<invalid>"
	}
	return fmt.Sprint(v.Interface())
}
