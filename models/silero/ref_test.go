package silero

import (
	"math"
)

// refModel is the test oracle: Silero VAD v5 written out in float64 loops
// straight from the ONNX graph, with no packing, padding or fusion.
type refModel struct {
	geo geometry
	p   map[string]Param
	h   []float64
	c   []float64
}

func newRefModel(params []Param, geo geometry) *refModel {
	m := &refModel{geo: geo, p: map[string]Param{}, h: make([]float64, hidden), c: make([]float64, hidden)}
	for _, p := range params {
		m.p[p.Name] = p
	}
	return m
}

func (m *refModel) w(name string) []float32 { return m.p[m.geo.prefix()+name].Data }

// conv1d is cross-correlation of in [cin][t] with w [cout][cin][k], zero
// padding pad on both sides.
func conv1d(in [][]float64, w, bias []float32, cout, k, stride, pad int) [][]float64 {
	cin, t := len(in), len(in[0])
	tout := (t+2*pad-k)/stride + 1
	out := make([][]float64, cout)
	for o := range out {
		out[o] = make([]float64, tout)
		for j := range tout {
			s := 0.0
			if bias != nil {
				s = float64(bias[o])
			}
			for i := range cin {
				for kk := range k {
					p := j*stride + kk - pad
					if p >= 0 && p < t {
						s += float64(w[(o*cin+i)*k+kk]) * in[i][p]
					}
				}
			}
			out[o][j] = s
		}
	}
	return out
}

// step runs one call of the model on x (context followed by the window) and
// returns the speech probability, updating the LSTM state.
func (m *refModel) step(x []float32) float64 {
	g := m.geo
	pad := g.padding()
	n := len(x)
	xp := make([]float64, n+pad)
	for i, v := range x {
		xp[i] = float64(v)
	}
	for j := range pad { // reflect: x[n], x[n+1], ... mirror x[n-2], x[n-3], ...
		xp[n+j] = float64(x[n-2-j])
	}
	spec := conv1d([][]float64{xp}, m.w("stft.basis"), nil, 2*g.freqs(), g.nfft, g.hop, 0)
	f := g.freqs()
	mag := make([][]float64, f)
	for i := range f {
		mag[i] = make([]float64, len(spec[i]))
		for t := range mag[i] {
			re, im := spec[i][t], spec[f+i][t]
			mag[i][t] = math.Sqrt(re*re + im*im)
		}
	}
	h := mag
	for i := range encLays {
		h = conv1d(h, m.w(fmtI("encoder.%d.weight", i)), m.w(fmtI("encoder.%d.bias", i)), encOut[i], 3, encStride[i], 1)
		for _, row := range h {
			for t := range row {
				row[t] = max(row[t], 0)
			}
		}
	}
	if len(h[0]) != 1 {
		panic("encoder output has more than one frame")
	}
	wih, whh, bih, bhh := m.w("lstm.weight_ih"), m.w("lstm.weight_hh"), m.w("lstm.bias_ih"), m.w("lstm.bias_hh")
	gates := make([]float64, 4*hidden)
	for r := range gates {
		s := float64(bih[r]) + float64(bhh[r])
		for i := range hidden {
			s += float64(wih[r*hidden+i])*h[i][0] + float64(whh[r*hidden+i])*m.h[i]
		}
		gates[r] = s
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	dw, db := m.w("decoder.weight"), m.w("decoder.bias")
	out := float64(db[0])
	for i := range hidden {
		ig, fg := sig(gates[i]), sig(gates[hidden+i])
		gg, og := math.Tanh(gates[2*hidden+i]), sig(gates[3*hidden+i])
		m.c[i] = fg*m.c[i] + ig*gg
		m.h[i] = og * math.Tanh(m.c[i])
		out += float64(dw[i]) * max(m.h[i], 0)
	}
	return sig(out)
}
