package silero

import (
	"context"
	"fmt"
	"slices"

	"github.com/rlx-go/rlx/backend"
)

// Model holds the weights of Silero VAD v5 for both sample rates it was
// trained on. It is immutable and safe to share between Detectors.
type Model struct {
	branches map[int]*branch
	params   paramSource // as given, for compiling the IR graph
}

// NewModel builds a model from named parameters (see ParamNames). Every
// parameter must be present with its expected shape. Parameters of the
// 8 kHz branch may all be absent; the model then serves 16 kHz only.
func NewModel(params []Param) (*Model, error) {
	byName := map[string]Param{}
	for _, p := range params {
		if _, dup := byName[p.Name]; dup {
			return nil, fmt.Errorf("silero: parameter %q given twice", p.Name)
		}
		byName[p.Name] = p
	}
	m := &Model{branches: map[int]*branch{}, params: paramSource(byName)}
	used := 0
	for _, geo := range []geometry{geom16k, geom8k} {
		shapes := paramShapes(geo)
		present := 0
		for _, s := range shapes {
			if _, ok := byName[s.Name]; ok {
				present++
			}
		}
		if present == 0 && geo.rate != 16000 {
			continue
		}
		want := map[string][]int{}
		for _, s := range shapes {
			want[s.Name] = s.Shape
		}
		br, err := newBranch(geo, func(name string) ([]float32, error) {
			p, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("silero: missing parameter %q", name)
			}
			if !slices.Equal(p.Shape, want[name]) {
				return nil, fmt.Errorf("silero: parameter %q has shape %v, want %v", name, p.Shape, want[name])
			}
			if n := numel(p.Shape); len(p.Data) != n {
				return nil, fmt.Errorf("silero: parameter %q has %d values for shape %v", name, len(p.Data), p.Shape)
			}
			return p.Data, nil
		})
		if err != nil {
			return nil, err
		}
		m.branches[geo.rate] = br
		used += len(shapes)
	}
	if used != len(byName) {
		for name := range byName {
			if !slices.Contains(ParamNames(), name) {
				return nil, fmt.Errorf("silero: unknown parameter %q", name)
			}
		}
	}
	return m, nil
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// SampleRates lists the input rates the model supports, highest first.
func (m *Model) SampleRates() []int {
	var rs []int
	for _, g := range []geometry{geom16k, geom8k} {
		if m.branches[g.rate] != nil {
			rs = append(rs, g.rate)
		}
	}
	return rs
}

// Detector runs the model over a stream of samples. Push accepts chunks of
// any size; every WindowSize samples yield one speech probability. The
// model sees each window with the last ContextSize samples before it (zeros
// at the start) and carries its LSTM state across windows, which is the
// protocol of silero-vad's own wrapper. A Detector is not safe for
// concurrent use; create one per stream.
type Detector struct {
	br      *branch
	s       *scratch
	stream  *Stream // the compiled IR graph, when the detector runs on a backend
	err     error   // first error of the graph path; sticky until Reset
	h, c    []float32
	in      []float32 // context followed by the window being filled
	filled  int       // samples of the current window received so far
	windows int       // windows processed since Reset
}

// DetectorOption configures NewDetector.
type DetectorOption func(*detectorConfig)

type detectorConfig struct {
	be backend.Backend
}

// OnBackend runs the detector through the model's IR graph (see Graph)
// compiled for be, instead of the package's own fused kernels. Both compute
// the same function; the kernels are the default here because they need no
// backend and are faster (27 vs 41 µs per window on one core today). The
// CLI runs the graph on the CPU backend.
func OnBackend(be backend.Backend) DetectorOption {
	return func(c *detectorConfig) { c.be = be }
}

// NewDetector returns a detector for audio at sampleRate (16000 or 8000).
func (m *Model) NewDetector(sampleRate int, opts ...DetectorOption) (*Detector, error) {
	br := m.branches[sampleRate]
	if br == nil {
		return nil, fmt.Errorf("silero: sample rate %d Hz is not supported (want one of %v; resample first)", sampleRate, m.SampleRates())
	}
	var cfg detectorConfig
	for _, o := range opts {
		o(&cfg)
	}
	d := &Detector{
		br: br,
		s:  br.newScratch(),
		h:  make([]float32, hidden),
		c:  make([]float32, hidden),
		in: make([]float32, br.geo.context+br.geo.window),
	}
	if cfg.be != nil {
		prog, err := m.Compile(cfg.be, sampleRate)
		if err != nil {
			return nil, err
		}
		d.stream = prog.NewStream()
	}
	return d, nil
}

// Err reports the first error of a detector running on a backend (the
// kernel path cannot fail). Probabilities pushed after an error are 0.
func (d *Detector) Err() error { return d.err }

// Close releases the compiled program of a detector made with OnBackend (a
// no-op otherwise). The detector must not be used afterwards.
func (d *Detector) Close() {
	if d.stream != nil {
		d.stream.Close()
		d.stream.p.Close()
		d.stream = nil
	}
}

// SampleRate is the rate the detector expects, in Hz.
func (d *Detector) SampleRate() int { return d.br.geo.rate }

// WindowSize is the number of samples behind each probability (512 at
// 16 kHz, 256 at 8 kHz).
func (d *Detector) WindowSize() int { return d.br.geo.window }

// ContextSize is the number of preceding samples the model sees with each
// window (64 at 16 kHz, 32 at 8 kHz).
func (d *Detector) ContextSize() int { return d.br.geo.context }

// Windows is the number of probabilities produced since the last Reset.
func (d *Detector) Windows() int { return d.windows }

// Reset clears the recurrent state, the context and any buffered samples,
// so the next sample starts a new stream.
func (d *Detector) Reset() {
	if d.stream != nil {
		d.stream.Reset()
	}
	d.err = nil
	clear(d.h)
	clear(d.c)
	clear(d.in)
	d.filled = 0
	d.windows = 0
}

// Push feeds samples and appends to dst one probability for every window
// the samples complete; samples of an incomplete window are kept for the
// next call. It returns the extended dst.
func (d *Detector) Push(dst []float32, samples []float32) []float32 {
	ctx, win := d.br.geo.context, d.br.geo.window
	for len(samples) > 0 {
		n := copy(d.in[ctx+d.filled:], samples)
		d.filled += n
		samples = samples[n:]
		if d.filled == win {
			dst = append(dst, d.run())
		}
	}
	return dst
}

// Flush processes buffered samples of an incomplete window, zero-padded to
// a full window, and appends its probability to dst. With nothing buffered
// it returns dst unchanged. The recurrent state is kept, as if the stream
// had contained the zeros.
func (d *Detector) Flush(dst []float32) []float32 {
	if d.filled == 0 {
		return dst
	}
	clear(d.in[d.br.geo.context+d.filled:])
	return append(dst, d.run())
}

func (d *Detector) run() float32 {
	var p float32
	if d.stream != nil {
		if d.err == nil {
			p, d.err = d.stream.Step(context.Background(), d.in)
		}
	} else {
		p = d.br.step(d.s, d.in, d.h, d.c)
	}
	ctx := d.br.geo.context
	copy(d.in[:ctx], d.in[len(d.in)-ctx:])
	d.filled = 0
	d.windows++
	return p
}

// Probabilities runs a fresh detector over a whole clip at sampleRate and
// returns one probability per window, the last window zero-padded. It
// checks ctx between windows.
func (m *Model) Probabilities(ctx context.Context, samples []float32, sampleRate int, opts ...DetectorOption) ([]float32, error) {
	d, err := m.NewDetector(sampleRate, opts...)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	win := d.WindowSize()
	out := make([]float32, 0, (len(samples)+win-1)/win)
	const chunk = 256 // windows between cancellation checks
	for i := 0; i < len(samples); i += chunk * win {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out = d.Push(out, samples[i:min(i+chunk*win, len(samples))])
	}
	out = d.Flush(out)
	return out, d.Err()
}
