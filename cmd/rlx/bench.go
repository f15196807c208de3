package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
	"github.com/rlx-go/rlx/backend/cpu/gemm"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/bench/membw"
	"github.com/rlx-go/rlx/tensor"
	"github.com/spf13/cobra"
)

// benchCmd is the parent of the `rlx bench …` microbenchmarks; each kind
// of kernel adds its subcommand from its own file.
var benchCmd = &cobra.Command{
	Use:   "bench",
	Short: "Measure kernel speed on this machine",
	Args:  cobra.NoArgs,
}

func init() {
	rootCmd.AddCommand(benchCmd)
	benchCmd.AddCommand(newBenchGEMMCmd(), newBenchMemBWCmd())
}

// benchStats summarises repeated measurements.
type benchStats struct {
	Median, Min, Max float64
}

func stats(v []float64) benchStats {
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return benchStats{Median: med, Min: s[0], Max: s[len(s)-1]}
}

type gemmReport struct {
	Impl         string  `json:"impl"`
	M            int     `json:"m"`
	N            int     `json:"n"`
	K            int     `json:"k"`
	Layout       string  `json:"layout"`
	DType        string  `json:"dtype"`
	Packed       bool    `json:"packed"`
	Threads      int     `json:"threads"`
	Kernels      string  `json:"kernels"`
	Runs         int     `json:"runs"`
	GFLOPSMedian float64 `json:"gflops_median"`
	GFLOPSMin    float64 `json:"gflops_min"`
	GFLOPSMax    float64 `json:"gflops_max"`
	// WeightGBs is the median rate at which B was read, for GEMV shapes.
	WeightGBs float64 `json:"weight_gbs,omitempty"`
	// With --membw: the median read bandwidth of the probe passes run
	// just before each call, and the median of the per-call ratios of the
	// weight rate to that bandwidth (with their spread).
	MemBWGBs   float64 `json:"membw_gbs,omitempty"`
	ToMemBW    float64 `json:"weights_to_membw,omitempty"`
	ToMemBWMin float64 `json:"weights_to_membw_min,omitempty"`
	ToMemBWMax float64 `json:"weights_to_membw_max,omitempty"`
}

func newBenchGEMMCmd() *cobra.Command {
	var (
		m, n, k, threads, runs int
		dtype, layout          string
		packed, asJSON, cpu    bool
		withBW                 bool
	)
	cmd := &cobra.Command{
		Use:   "gemm",
		Short: "Time C[M,N] = A[M,K]·B and print GFLOP/s (median of runs)",
		Long: `Time the CPU matrix multiply on random data and print GFLOP/s: the median
of the timed runs (after two warm-ups), with the slowest and fastest run as the
spread. B is a [K,N] matrix (--layout kn) or an [N,K] weight (--layout nk, the
nn.Linear layout; required for f16/bf16). --packed packs B once before timing,
as a model does with its weights at load. For M ≤ 4 with nk weights the GEMV
path runs, and the rate at which the weights were read is printed too; those
calls cycle through copies of the weights (≥ 256 MiB in all) so that each one
reads them from memory, as a decode step does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if m <= 0 || n <= 0 || k <= 0 {
				return fmt.Errorf("bench gemm: --m, --n and --k must be positive (got %d, %d, %d)", m, n, k)
			}
			if runs <= 0 {
				return fmt.Errorf("bench gemm: -r must be positive (got %d)", runs)
			}
			if threads < 0 {
				return fmt.Errorf("bench gemm: --threads must be ≥ 0 (got %d)", threads)
			}
			dt, err := tensor.ParseDType(dtype)
			if err != nil || (dt != tensor.F32 && dt != tensor.F16 && dt != tensor.BF16) {
				return fmt.Errorf("bench gemm: --dtype %q: want f32, f16 or bf16", dtype)
			}
			var lay gemm.Layout
			switch strings.ToLower(layout) {
			case "kn":
				lay = gemm.KN
			case "nk":
				lay = gemm.NK
			default:
				return fmt.Errorf("bench gemm: --layout %q: want kn or nk", layout)
			}
			if dt != tensor.F32 && lay != gemm.NK {
				return fmt.Errorf("bench gemm: %v weights need --layout nk", dt)
			}
			p := parallel.New(threads)
			defer p.Close()
			if withBW && !(m <= 16 && lay == gemm.NK) {
				return fmt.Errorf("bench gemm: --membw is for GEMV shapes (--m ≤ 16, --layout nk)")
			}
			rep, err := benchGEMM(p, m, n, k, lay, dt, packed, runs, cpu, withBW)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(rep)
			}
			fmt.Fprintf(out, "rlx %dx%dx%d %s %s packed=%v threads=%d kernels=%s: median %.1f GFLOP/s (min %.1f, max %.1f, %d runs)",
				m, n, k, strings.ToLower(layout), dtype, packed, rep.Threads, rep.Kernels, rep.GFLOPSMedian, rep.GFLOPSMin, rep.GFLOPSMax, runs)
			if rep.WeightGBs > 0 {
				fmt.Fprintf(out, ", weights read at %.1f GB/s", rep.WeightGBs)
			}
			if rep.ToMemBW > 0 {
				fmt.Fprintf(out, " = %.2f× the read bandwidth (%.1f GB/s; per call %.2f–%.2f)", rep.ToMemBW, rep.MemBWGBs, rep.ToMemBWMin, rep.ToMemBWMax)
			}
			fmt.Fprintln(out)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&m, "m", 1024, "rows of A and C")
	f.IntVar(&n, "n", 1024, "columns of C")
	f.IntVar(&k, "k", 1024, "reduction depth")
	f.StringVar(&dtype, "dtype", "f32", "B dtype: f32, f16 or bf16")
	f.StringVar(&layout, "layout", "nk", "B layout: kn (B[K,N]) or nk (B[N,K], a weight)")
	f.BoolVar(&packed, "packed", false, "pack B once before timing (pre-packed weights)")
	f.IntVar(&threads, "threads", 0, "worker threads (0: GOMAXPROCS)")
	f.IntVarP(&runs, "runs", "r", 10, "timed runs")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVar(&withBW, "membw", false, "GEMV shapes: before each call, probe the read bandwidth (one 256 MiB pass) and report the weight rate as a fraction of it")
	f.BoolVar(&cpu, "cputime", false, "divide by CPU time per thread, not wall time (steadier on a busy host; barrier spinning still counts)")
	return cmd
}

func benchGEMM(p *parallel.Pool, m, n, k int, lay gemm.Layout, dt tensor.DType, packed bool, runs int, cpu, withBW bool) (*gemmReport, error) {
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = r.Float32() - 0.5
		}
		return v
	}
	a, c := rnd(m*k), make([]float32, m*n)
	// GEMV shapes stream their weights: a decode step touches each layer's
	// weights once, so the benchmark cycles through enough copies (≥ 256
	// MiB in all, 8× the L3) that every call reads from memory, not from
	// the cache the previous call warmed.
	copies := 1
	if m <= 16 && lay == gemm.NK {
		bytes := k * n * 4
		if dt != tensor.F32 {
			bytes /= 2
		}
		copies = min(64, max(1, (256<<20+bytes-1)/max(bytes, 1)))
	}
	calls := make([]func() error, copies)
	for i := range calls {
		b := gemm.B{Layout: lay, DType: dt}
		if dt == tensor.F32 {
			b.F32 = rnd(k * n)
		} else {
			b.U16 = make([]uint16, k*n)
			for i := range b.U16 {
				if dt == tensor.F16 {
					b.U16[i] = tensor.F32ToF16(r.Float32() - 0.5)
				} else {
					b.U16[i] = tensor.F32ToBF16(r.Float32() - 0.5)
				}
			}
		}
		calls[i] = func() error { return gemm.MatMul(p, gemm.Matrix{Data: c}, gemm.Matrix{Data: a}, b, m, n, k, false) }
		if packed {
			pb, err := gemm.Pack(p, b, n, k)
			if err != nil {
				return nil, err
			}
			calls[i] = func() error { return pb.MatMul(p, gemm.Matrix{Data: c}, gemm.Matrix{Data: a}, m, false) }
		}
	}
	next := 0
	call := func() error {
		next = (next + 1) % len(calls)
		return calls[next]()
	}
	for range 2 {
		if err := call(); err != nil {
			return nil, err
		}
	}
	flop := 2 * float64(m) * float64(n) * float64(k)
	gf := make([]float64, runs)
	secs := make([]float64, runs)
	if cpu {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	wbytes := float64(n * k * 4)
	if dt != tensor.F32 {
		wbytes /= 2
	}
	var probe *membw.Buffer
	var bws, ratios []float64
	if withBW {
		probe = membw.NewBuffer(256 << 20)
		probe.Read(p)
	}
	for i := range gf {
		if probe != nil {
			// A pass over the probe buffer right before the call, so both
			// see the same state of a shared, drifting host.
			bws = append(bws, probe.Read(p))
		}
		t0, c0 := time.Now(), cpuTime(p.Size())
		if err := call(); err != nil {
			return nil, err
		}
		secs[i] = time.Since(t0).Seconds()
		if cpu {
			secs[i] = cpuTime(p.Size()) - c0
		}
		gf[i] = flop / secs[i] / 1e9
		if probe != nil {
			ratios = append(ratios, wbytes/secs[i]/bws[i])
		}
	}
	st := stats(gf)
	rep := &gemmReport{
		Impl: "rlx", M: m, N: n, K: k, Layout: strings.ToLower(lay.String()), DType: strings.ToLower(dt.String()),
		Packed: packed, Threads: p.Size(), Kernels: cpuinfo.Active.String(), Runs: runs,
		GFLOPSMedian: st.Median, GFLOPSMin: st.Min, GFLOPSMax: st.Max,
	}
	if m <= 16 && lay == gemm.NK {
		rep.WeightGBs = wbytes / stats(secs).Median / 1e9
	}
	if probe != nil {
		rs := stats(ratios)
		rep.MemBWGBs = stats(bws).Median / 1e9
		rep.ToMemBW, rep.ToMemBWMin, rep.ToMemBWMax = rs.Median, rs.Min, rs.Max
	}
	return rep, nil
}

func newBenchMemBWCmd() *cobra.Command {
	var (
		sizeMiB, threads int
		seconds          float64
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "membw",
		Short: "Measure memory read bandwidth (the ceiling for weight streaming)",
		Long: `Stream a buffer much larger than the caches with every worker reading its own
contiguous part, as the GEMV kernel reads weight rows, for a few seconds, and print
the median and spread of the passes in GB/s (10⁹ bytes per second).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sizeMiB <= 0 || seconds < 0 || threads < 0 {
				return fmt.Errorf("bench membw: --size-mib must be positive, --seconds and --threads ≥ 0")
			}
			p := parallel.New(threads)
			defer p.Close()
			buf := membw.NewBuffer(sizeMiB << 20)
			buf.Read(p) // warm-up
			s := buf.Series(p, time.Duration(seconds*float64(time.Second)))
			for i := range s {
				s[i] /= 1e9
			}
			st := stats(s)
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{
					"impl": "membw", "threads": p.Size(), "bytes": buf.Bytes(), "passes": len(s),
					"gbs_median": st.Median, "gbs_min": st.Min, "gbs_max": st.Max,
					"gbs_p10": s[len(s)/10], "gbs_p90": s[len(s)*9/10],
				})
			}
			fmt.Fprintf(out, "membw read threads=%d %d MiB: median %.1f GB/s (p10 %.1f, p90 %.1f, min %.1f, max %.1f, %d passes)\n",
				p.Size(), buf.Bytes()>>20, st.Median, s[len(s)/10], s[len(s)*9/10], st.Min, st.Max, len(s))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&sizeMiB, "size-mib", 512, "buffer size in MiB (well above the L3)")
	f.Float64Var(&seconds, "seconds", 3, "how long to keep reading")
	f.IntVar(&threads, "threads", 0, "worker threads (0: GOMAXPROCS)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
