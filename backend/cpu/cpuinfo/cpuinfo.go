// Package cpuinfo reports the CPU features that select kernels at run time.
//
// Features are read once at start-up; kernels consult Level to pick the
// widest instruction set the host supports. Setting the environment variable
// RLX_CPU to "generic", "avx2" or "avx512" lowers the level (never raises it),
// which is how the tests exercise every path on one machine.
package cpuinfo

import (
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/cpu"
)

// Level is an ordered instruction-set tier.
type Level int

// Instruction-set tiers, from the portable Go kernels upwards.
const (
	Generic Level = iota // pure Go, any architecture
	AVX2                 // AVX2 + FMA + F16C
	AVX512               // AVX-512 F/BW/DQ/VL
)

func (l Level) String() string {
	switch l {
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return "generic"
}

// Features is the subset of CPU capabilities rlx kernels care about.
type Features struct {
	Arch       string
	AVX2       bool
	FMA        bool
	F16C       bool
	AVX512F    bool
	AVX512BW   bool
	AVX512DQ   bool
	AVX512VL   bool
	AVX512VNNI bool
	AVX512BF16 bool
	AVXVNNI    bool
}

// Host holds the features of the machine this process runs on.
var Host = detect()

func detect() Features {
	return Features{
		Arch:       runtime.GOARCH,
		AVX2:       cpu.X86.HasAVX2,
		FMA:        cpu.X86.HasFMA,
		F16C:       cpu.X86.HasF16C,
		AVX512F:    cpu.X86.HasAVX512F,
		AVX512BW:   cpu.X86.HasAVX512BW,
		AVX512DQ:   cpu.X86.HasAVX512DQ,
		AVX512VL:   cpu.X86.HasAVX512VL,
		AVX512VNNI: cpu.X86.HasAVX512VNNI,
		AVX512BF16: cpu.X86.HasAVX512BF16,
		AVXVNNI:    cpu.X86.HasAVXVNNI,
	}
}

// MaxLevel is the highest tier the hardware supports.
func (f Features) MaxLevel() Level {
	if f.Arch != "amd64" {
		return Generic
	}
	if f.AVX512F && f.AVX512BW && f.AVX512DQ && f.AVX512VL && f.FMA {
		return AVX512
	}
	if f.AVX2 && f.FMA {
		return AVX2
	}
	return Generic
}

// Names lists the present features in a stable order, for display.
func (f Features) Names() []string {
	var out []string
	add := func(ok bool, name string) {
		if ok {
			out = append(out, name)
		}
	}
	add(f.AVX2, "avx2")
	add(f.FMA, "fma")
	add(f.F16C, "f16c")
	add(f.AVX512F, "avx512f")
	add(f.AVX512BW, "avx512bw")
	add(f.AVX512DQ, "avx512dq")
	add(f.AVX512VL, "avx512vl")
	add(f.AVX512VNNI, "avx512vnni")
	add(f.AVX512BF16, "avx512bf16")
	add(f.AVXVNNI, "avxvnni")
	return out
}

// Active is the tier kernels use: the hardware maximum, lowered by RLX_CPU.
var Active = active(Host.MaxLevel(), os.Getenv("RLX_CPU"))

func active(hw Level, env string) Level {
	var want Level
	switch strings.ToLower(strings.TrimSpace(env)) {
	case "":
		return hw
	case "generic", "go", "purego":
		want = Generic
	case "avx2":
		want = AVX2
	case "avx512":
		want = AVX512
	default:
		return hw
	}
	return min(want, hw)
}
