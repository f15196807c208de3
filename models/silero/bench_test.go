package silero

import (
	"math"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

// BenchmarkDetector measures streaming speed, one window per push as a
// live stream delivers it, and reports the real-time factor (seconds of
// audio per second of compute). Run with -cpu 1 for the one-core figure.
func BenchmarkDetector(b *testing.B) {
	for _, rate := range []int{16000, 8000} {
		b.Run(map[int]string{16000: "16k", 8000: "8k"}[rate], func(b *testing.B) {
			d, err := defaultModel(b).NewDetector(rate)
			if err != nil {
				b.Fatal(err)
			}
			win := d.WindowSize()
			x := make([]float32, 64*win)
			for i := range x {
				x[i] = float32(0.1 * math.Sin(float64(i)*0.05) * math.Sin(float64(i)*0.0007))
			}
			probs := make([]float32, 0, 1)
			i := 0
			for b.Loop() {
				probs = d.Push(probs[:0], x[i*win:(i+1)*win])
				i = (i + 1) % 64
			}
			perWindow := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(win)/float64(rate)/perWindow, "x_realtime")
			b.ReportMetric(perWindow*1e6, "us/window")
		})
	}
}

// BenchmarkGraph is BenchmarkDetector through the IR graph compiled for the
// CPU backend with a one-thread pool (one window per Run), as rlx vad runs
// it.
func BenchmarkGraph(b *testing.B) {
	for _, rate := range []int{16000, 8000} {
		b.Run(map[int]string{16000: "16k", 8000: "8k"}[rate], func(b *testing.B) {
			m := defaultModel(b)
			prog, err := m.Compile(cpu.New(cpu.Options{Pool: parallel.New(1)}), rate)
			if err != nil {
				b.Fatal(err)
			}
			defer prog.Close()
			st := prog.NewStream()
			defer st.Close()
			geo := m.branches[rate].geo
			x := make([]float32, geo.context+geo.window)
			for i := range x {
				x[i] = float32(0.1 * math.Sin(float64(i)*0.05))
			}
			for b.Loop() {
				if _, err := st.Step(b.Context(), x); err != nil {
					b.Fatal(err)
				}
			}
			perWindow := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(geo.window)/float64(rate)/perWindow, "x_realtime")
			b.ReportMetric(perWindow*1e6, "us/window")
		})
	}
}
