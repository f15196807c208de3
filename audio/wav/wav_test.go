package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// build writes a WAV file by hand: RIFF header, an optional extra chunk, a
// fmt chunk (extensible when ext is set) and a data chunk.
func build(format uint16, channels, rate, bits int, ext bool, data []byte) []byte {
	var fmtc []byte
	code := format
	if ext {
		code = formatExtensible
	}
	fmtc = binary.LittleEndian.AppendUint16(fmtc, code)
	fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(channels))
	fmtc = binary.LittleEndian.AppendUint32(fmtc, uint32(rate))
	fmtc = binary.LittleEndian.AppendUint32(fmtc, uint32(rate*channels*bits/8))
	fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(channels*bits/8))
	fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(bits))
	if ext {
		fmtc = binary.LittleEndian.AppendUint16(fmtc, 22)
		fmtc = binary.LittleEndian.AppendUint16(fmtc, uint16(bits))
		fmtc = binary.LittleEndian.AppendUint32(fmtc, 0x3) // channel mask
		guid := []byte{0, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71}
		binary.LittleEndian.PutUint16(guid, format)
		fmtc = append(fmtc, guid...)
	}
	var body []byte
	body = append(body, "WAVE"...)
	body = append(body, "LIST"...)
	body = binary.LittleEndian.AppendUint32(body, 5)
	body = append(body, "INFO!\x00"...) // odd size: padded
	body = append(body, "fmt "...)
	body = binary.LittleEndian.AppendUint32(body, uint32(len(fmtc)))
	body = append(body, fmtc...)
	body = append(body, "data"...)
	body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func TestEncodings(t *testing.T) {
	// The same two stereo frames, (0.5, -0.25) and (-1, 1), in every encoding;
	// the mono mix is their mean.
	l := []float64{0.5, -1}
	r := []float64{-0.25, 1}
	want := []float32{0.125, 0}
	enc := map[string]func(v float64) []byte{
		"u8": func(v float64) []byte { return []byte{byte(math.Min(v*128+128, 255))} },
		"s16": func(v float64) []byte {
			return binary.LittleEndian.AppendUint16(nil, uint16(int16(math.Min(v*32768, 32767))))
		},
		"s24": func(v float64) []byte {
			x := int32(v * (1 << 23))
			if v == 1 {
				x = 1<<23 - 1
			}
			return []byte{byte(x), byte(x >> 8), byte(x >> 16)}
		},
		"s32": func(v float64) []byte {
			x := int64(v * (1 << 31))
			if x > math.MaxInt32 {
				x = math.MaxInt32
			}
			return binary.LittleEndian.AppendUint32(nil, uint32(int32(x)))
		},
		"f32": func(v float64) []byte { return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v))) },
		"f64": func(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) },
	}
	cases := []struct {
		name   string
		format uint16
		bits   int
		tol    float64
	}{
		{"u8", formatPCM, 8, 1.0 / 128},
		{"s16", formatPCM, 16, 1.0 / 32768},
		{"s24", formatPCM, 24, 1.0 / (1 << 23)},
		{"s32", formatPCM, 32, 1.0 / (1 << 31)},
		{"f32", formatFloat, 32, 0},
		{"f64", formatFloat, 64, 0},
	}
	for _, c := range cases {
		for _, ext := range []bool{false, true} {
			var data []byte
			for i := range l {
				data = append(data, enc[c.name](l[i])...)
				data = append(data, enc[c.name](r[i])...)
			}
			a, err := Decode(build(c.format, 2, 22050, c.bits, ext, data))
			if err != nil {
				t.Errorf("%s ext=%v: %v", c.name, ext, err)
				continue
			}
			if a.SampleRate != 22050 || a.Channels != 2 || a.BitsPerSample != c.bits || a.Float != (c.format == formatFloat) || len(a.Samples) != 2 {
				t.Errorf("%s ext=%v: %+v", c.name, ext, a)
				continue
			}
			for i, w := range want {
				if math.Abs(float64(a.Samples[i]-w)) > c.tol {
					t.Errorf("%s ext=%v: sample %d = %v, want %v", c.name, ext, i, a.Samples[i], w)
				}
			}
		}
	}
}

func TestInt16Exact(t *testing.T) {
	var data []byte
	vals := []int16{0, 1, -1, 32767, -32768, 12345}
	for _, v := range vals {
		data = binary.LittleEndian.AppendUint16(data, uint16(v))
	}
	a, err := Decode(build(formatPCM, 1, 16000, 16, false, data))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if a.Samples[i] != float32(v)/32768 {
			t.Errorf("sample %d = %v, want %v", i, a.Samples[i], float32(v)/32768)
		}
	}
}

func TestShippedFile(t *testing.T) {
	a, err := ReadFile(filepath.Join("testdata", "speech-b.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if a.SampleRate != 16000 || a.Channels != 1 || a.BitsPerSample != 16 || len(a.Samples) != 128478 {
		t.Fatalf("got rate %d, %d ch, %d bits, %d samples", a.SampleRate, a.Channels, a.BitsPerSample, len(a.Samples))
	}
	// The first samples, read from the file with xxd: 0x000b, 0x01be, 0x0191, 0xff59.
	for i, v := range []int16{0x000b, 0x01be, 0x0191, -167} {
		if a.Samples[i] != float32(v)/32768 {
			t.Errorf("sample %d = %v, want %v", i, a.Samples[i], float32(v)/32768)
		}
	}
	if d := a.Duration(); math.Abs(d-8.029875) > 1e-9 {
		t.Errorf("duration %v", d)
	}
	f, _ := os.Open(filepath.Join("testdata", "speech-b.wav"))
	defer f.Close()
	b, err := Read(f)
	if err != nil || len(b.Samples) != len(a.Samples) {
		t.Errorf("Read: %v", err)
	}
}

func TestErrors(t *testing.T) {
	good := build(formatPCM, 1, 16000, 16, false, make([]byte, 20))
	dataAt := bytes.Index(good, []byte("data"))
	setU32 := func(b []byte, at int, v uint32) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[at:], v)
		return c
	}
	fmtAt := bytes.Index(good, []byte("fmt "))
	setU16 := func(b []byte, at int, v uint16) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint16(c[at:], v)
		return c
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a WAV file"},
		{"text", []byte("hello, this is not audio at all"), "not a WAV file"},
		{"rifx", []byte("RIFX\x00\x00\x00\x00WAVE"), "big-endian"},
		{"header only", good[:12], "truncated: no fmt chunk"},
		{"truncated fmt", good[:fmtAt+12], "truncated fmt chunk"},
		{"no data", good[:dataAt], "truncated: no data chunk"},
		{"truncated data", good[:len(good)-4], "truncated data chunk: 20 bytes declared, 16 left"},
		{"zero length", build(formatPCM, 1, 16000, 16, false, nil), "no audio samples"},
		{"partial frame", build(formatPCM, 1, 16000, 16, false, []byte{1}), "no audio samples"},
		{"huge chunk", setU32(good, 16, 0xFFFFFFF0), "truncated"},
		{"huge extra chunk", setU32(good, 16, 0x7FFFFFFF), "truncated"},
		{"mulaw", setU16(good, fmtAt+8, 7), "unsupported encoding 0x0007"},
		{"zero channels", setU16(good, fmtAt+10, 0), "0 channels"},
		{"zero rate", setU32(good, fmtAt+12, 0), "sample rate 0"},
		{"12-bit", setU16(good, fmtAt+22, 12), "12-bit PCM"},
		{"block align", setU16(good, fmtAt+20, 3), "block align 3"},
		{"short fmt", setU32(good, fmtAt+4, 8), "fmt chunk of 8 bytes"},
		{"short extensible", setU16(good, fmtAt+8, formatExtensible), "WAVE_FORMAT_EXTENSIBLE"},
		{"float16", build(formatFloat, 1, 16000, 16, false, make([]byte, 4)), "16-bit float"},
	}
	for _, c := range cases {
		_, err := Decode(c.data)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrFormat containing %q", c.name, err, c.want)
		}
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.wav")); err == nil {
		t.Error("missing file: no error")
	}
	// Unknown data size (0xFFFFFFFF) runs to the end of the file.
	a, err := Decode(setU32(good, dataAt+4, 0xFFFFFFFF))
	if err != nil || len(a.Samples) != 10 {
		t.Errorf("streaming size: %v, %v", a, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(build(formatPCM, 1, 16000, 16, false, make([]byte, 20)))
	f.Add(build(formatFloat, 2, 44100, 32, true, make([]byte, 16)))
	f.Add(build(formatPCM, 3, 8000, 24, false, make([]byte, 18)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error does not wrap ErrFormat: %v", err)
			}
			return
		}
		if len(a.Samples) == 0 || a.SampleRate <= 0 {
			t.Fatalf("decoded nothing without an error: %+v", a)
		}
	})
}
