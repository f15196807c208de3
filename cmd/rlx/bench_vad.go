package main

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/models/silero"
	"github.com/spf13/cobra"
)

func init() { benchCmd.AddCommand(newBenchVADCmd()) }

type vadBenchReport struct {
	Engine       string    `json:"engine"`
	SampleRate   int       `json:"sample_rate"`
	Windows      int       `json:"windows"`
	AudioS       float64   `json:"audio_s"`
	Kernels      string    `json:"kernels"`
	WallS        []float64 `json:"wall_s"`
	CPUS         []float64 `json:"cpu_s,omitempty"`
	USPerWindow  float64   `json:"us_per_window_median"`
	RealtimeX    float64   `json:"realtime_x_median"`
	RealtimeXMin float64   `json:"realtime_x_min"`
	RealtimeXMax float64   `json:"realtime_x_max"`
}

func newBenchVADCmd() *cobra.Command {
	var (
		seconds float64
		runs    int
		rate    int
		engine  string
		useCPU  bool
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "vad",
		Short: "Silero VAD real-time factor on one thread (streaming, one window per call)",
		Long: `bench vad streams a synthetic signal through Silero VAD v5 one window at a
time on one OS thread, as a live stream would, and reports the real-time factor
(seconds of audio per second of compute), through the rlx IR graph on the CPU
backend (--engine graph) or the model package's fused kernels (--engine kernels).
It is the protocol of the
onnxruntime anchor (shared/anchors/vad_rtf.js): 600 s at 16 kHz, windows of
512 samples with 64 of context, state carried. Pin it to a core (taskset -c 1)
to compare with that anchor.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if seconds <= 0 || runs < 1 {
				return fmt.Errorf("bench vad: --seconds and --runs must be positive")
			}
			m, err := silero.Default()
			if err != nil {
				return err
			}
			var opts []silero.DetectorOption
			switch engine {
			case "kernels":
			case "graph":
				opts = append(opts, silero.OnBackend(cpu.New(cpu.Options{Pool: parallel.New(1)})))
			default:
				return fmt.Errorf("bench vad: unknown --engine %q (want kernels or graph)", engine)
			}
			d, err := m.NewDetector(rate, opts...)
			if err != nil {
				return err
			}
			defer d.Close()
			win := d.WindowSize()
			n := int(seconds*float64(rate)) / win
			x := make([]float32, n*win)
			s := uint32(7)
			for i := range x {
				s = s*1664525 + 1013904223
				x[i] = float32((float64(s)/(1<<32)-0.5)*0.2) * float32(math.Sin(float64(i)/800))
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r := vadBenchReport{Engine: engine, SampleRate: rate, Windows: n, AudioS: float64(n*win) / float64(rate),
				Kernels: cpuinfo.Active.String()}
			var probs []float32
			var rtf []float64
			for run := range runs {
				d.Reset()
				c0, t0 := cpuTime(1), time.Now()
				for k := range n {
					probs = d.Push(probs[:0], x[k*win:(k+1)*win])
				}
				wall, cpuS := time.Since(t0).Seconds(), cpuTime(1)-c0
				if err := d.Err(); err != nil {
					return err
				}
				t := wall
				if useCPU && cpuS > 0 {
					t = cpuS
				}
				r.WallS = append(r.WallS, round3(wall))
				if useCPU {
					r.CPUS = append(r.CPUS, round3(cpuS))
				}
				rtf = append(rtf, r.AudioS/t)
				if !asJSON {
					fmt.Fprintf(cmd.OutOrStdout(), "run %d: %.3f s wall, %.3f s cpu, %.1f µs/window, %.0f× real time\n",
						run, wall, cpuS, t/float64(n)*1e6, r.AudioS/t)
				}
			}
			st := stats(rtf)
			r.RealtimeX, r.RealtimeXMin, r.RealtimeXMax = math.Round(st.Median), math.Round(st.Min), math.Round(st.Max)
			r.USPerWindow = math.Round(r.AudioS/st.Median/float64(n)*1e7) / 10
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "silero-vad %s, %d Hz, %d windows (%.0f s), kernels %s: median %.0f× real time (%.1f µs/window), range %.0f–%.0f×\n",
				engine, rate, n, r.AudioS, r.Kernels, r.RealtimeX, r.USPerWindow, r.RealtimeXMin, r.RealtimeXMax)
			return nil
		},
	}
	f := cmd.Flags()
	f.Float64Var(&seconds, "seconds", 600, "seconds of audio per run")
	f.IntVar(&runs, "runs", 5, "number of runs")
	f.IntVar(&rate, "rate", 16000, "sample rate: 16000 or 8000")
	f.StringVar(&engine, "engine", "graph", "graph (the rlx IR graph on the CPU backend) or kernels (the model package's fused kernels)")
	f.BoolVar(&useCPU, "cputime", false, "rate by the thread's CPU time instead of wall time (steadier on a busy host)")
	f.BoolVar(&asJSON, "json", false, "print a JSON report")
	return cmd
}
