// Package wav decodes RIFF/WAVE files into mono float32 samples.
//
// It reads integer PCM (8-bit unsigned, 16-, 24- and 32-bit signed) and IEEE
// float (32- and 64-bit) data, in the plain WAVE_FORMAT_PCM/IEEE_FLOAT
// layouts and in WAVE_FORMAT_EXTENSIBLE. Multichannel audio is mixed down
// to mono by averaging the channels. Integer samples are scaled by 2^(bits-1)
// (so int16 x becomes x/32768), the convention of most audio libraries.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrFormat is wrapped by every error about a file that is not a valid WAV.
var ErrFormat = errors.New("wav: invalid file")

// Encoding of the sample data.
const (
	formatPCM        = 1
	formatFloat      = 3
	formatExtensible = 0xFFFE
)

// Limits that reject nonsense headers before any work is done.
const (
	maxChannels   = 64
	maxSampleRate = 1 << 22 // 4 MHz: above any audio rate in use
)

// Audio is a decoded WAV file.
type Audio struct {
	SampleRate int
	// Channels and BitsPerSample describe the file; Samples is already mono.
	Channels      int
	BitsPerSample int
	Float         bool // IEEE float samples (else integer PCM)
	Samples       []float32
}

// Duration is the length of the audio in seconds.
func (a *Audio) Duration() float64 { return float64(len(a.Samples)) / float64(a.SampleRate) }

// ReadFile decodes the WAV file at path.
func ReadFile(path string) (*Audio, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	a, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Read decodes a WAV stream read to its end from r.
func Read(r io.Reader) (*Audio, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	return Decode(data)
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

type fmtChunk struct {
	format     uint16
	channels   int
	rate       int
	blockAlign int
	bits       int
}

// Decode decodes a complete WAV file held in data.
func Decode(data []byte) (*Audio, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		if len(data) >= 4 && string(data[0:4]) == "RIFX" {
			return nil, formatErr("big-endian RIFX files are not supported")
		}
		return nil, formatErr("not a WAV file (no RIFF/WAVE header)")
	}
	var fc *fmtChunk
	pos := 12
	for {
		if len(data)-pos < 8 {
			if fc == nil {
				return nil, formatErr("truncated: no fmt chunk")
			}
			return nil, formatErr("truncated: no data chunk")
		}
		id := string(data[pos : pos+4])
		size := uint64(binary.LittleEndian.Uint32(data[pos+4:]))
		pos += 8
		left := uint64(len(data) - pos)
		switch id {
		case "fmt ":
			if size > left {
				return nil, formatErr("truncated fmt chunk: %d bytes declared, %d left", size, left)
			}
			if fc != nil {
				return nil, formatErr("two fmt chunks")
			}
			var err error
			fc, err = parseFmt(data[pos : pos+int(size)])
			if err != nil {
				return nil, err
			}
		case "data":
			if fc == nil {
				return nil, formatErr("data chunk before fmt chunk")
			}
			if size == 0xFFFFFFFF {
				// Streaming writers that cannot seek back leave the size
				// unknown; the data then runs to the end of the file.
				size = left
			}
			if size > left {
				return nil, formatErr("truncated data chunk: %d bytes declared, %d left", size, left)
			}
			return decodeSamples(fc, data[pos:pos+int(size)])
		default:
			if size > left {
				return nil, formatErr("truncated %q chunk: %d bytes declared, %d left", id, size, left)
			}
		}
		pos += int(size + size&1) // chunks are padded to even sizes
		if pos > len(data) {
			pos = len(data)
		}
	}
}

func parseFmt(b []byte) (*fmtChunk, error) {
	if len(b) < 16 {
		return nil, formatErr("fmt chunk of %d bytes, want at least 16", len(b))
	}
	fc := &fmtChunk{
		format:     binary.LittleEndian.Uint16(b[0:]),
		channels:   int(binary.LittleEndian.Uint16(b[2:])),
		rate:       int(binary.LittleEndian.Uint32(b[4:])),
		blockAlign: int(binary.LittleEndian.Uint16(b[12:])),
		bits:       int(binary.LittleEndian.Uint16(b[14:])),
	}
	if fc.format == formatExtensible {
		if len(b) < 40 {
			return nil, formatErr("WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, want 40", len(b))
		}
		// The sub-format GUID starts with the plain format code.
		fc.format = binary.LittleEndian.Uint16(b[24:])
	}
	switch {
	case fc.format != formatPCM && fc.format != formatFloat:
		return nil, formatErr("unsupported encoding 0x%04x (want PCM or IEEE float)", fc.format)
	case fc.channels < 1 || fc.channels > maxChannels:
		return nil, formatErr("%d channels", fc.channels)
	case fc.rate < 1 || fc.rate > maxSampleRate:
		return nil, formatErr("sample rate %d Hz", fc.rate)
	case fc.format == formatPCM && fc.bits != 8 && fc.bits != 16 && fc.bits != 24 && fc.bits != 32:
		return nil, formatErr("%d-bit PCM is not supported (want 8, 16, 24 or 32)", fc.bits)
	case fc.format == formatFloat && fc.bits != 32 && fc.bits != 64:
		return nil, formatErr("%d-bit float is not supported (want 32 or 64)", fc.bits)
	case fc.blockAlign != fc.channels*fc.bits/8:
		return nil, formatErr("block align %d does not match %d channels of %d bits", fc.blockAlign, fc.channels, fc.bits)
	}
	return fc, nil
}

func decodeSamples(fc *fmtChunk, b []byte) (*Audio, error) {
	frames := len(b) / fc.blockAlign
	if frames == 0 {
		return nil, formatErr("no audio samples (data chunk of %d bytes)", len(b))
	}
	a := &Audio{
		SampleRate:    fc.rate,
		Channels:      fc.channels,
		BitsPerSample: fc.bits,
		Float:         fc.format == formatFloat,
		Samples:       make([]float32, frames),
	}
	bps := fc.bits / 8
	read := sampleReader(fc)
	inv := 1 / float64(fc.channels)
	for i := range a.Samples {
		frame := b[i*fc.blockAlign:]
		if fc.channels == 1 {
			a.Samples[i] = float32(read(frame))
			continue
		}
		var sum float64
		for c := 0; c < fc.channels; c++ {
			sum += read(frame[c*bps:])
		}
		a.Samples[i] = float32(sum * inv)
	}
	return a, nil
}

// sampleReader returns a function decoding one sample at the start of p.
func sampleReader(fc *fmtChunk) func(p []byte) float64 {
	if fc.format == formatFloat {
		if fc.bits == 32 {
			return func(p []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(p))) }
		}
		return func(p []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p)) }
	}
	switch fc.bits {
	case 8: // unsigned, centred on 128
		return func(p []byte) float64 { return (float64(p[0]) - 128) / 128 }
	case 16:
		return func(p []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(p))) / (1 << 15) }
	case 24:
		return func(p []byte) float64 {
			v := int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24) >> 8
			return float64(v) / (1 << 23)
		}
	default:
		return func(p []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(p))) / (1 << 31) }
	}
}
