package silero

import (
	"fmt"
	"math"
)

// branch is one sample-rate branch of the network with its weights laid out
// for the kernels: encoder weights reordered to [out][tap][in] so that a
// convolution's input for one output step is one contiguous run of a
// time-major activation buffer, and the LSTM's two matrices concatenated so
// one product over [x | h] yields all four gates.
type branch struct {
	geo   geometry
	basis []float32 // [2F][nfft]
	enc   [encLays]encLayer
	wcat  []float32 // [4H][2H] = [W_ih | W_hh], gate order i, f, g, o
	bsum  []float32 // [4H] = b_ih + b_hh
	decW  []float32 // [H]
	decB  float32

	// frame counts through the network for one call of context+window samples
	tSTFT int
	tEnc  [encLays + 1]int
}

type encLayer struct {
	w              []float32 // [cout][3][cin]
	b              []float32
	cin, cout, str int
}

func newBranch(geo geometry, get func(name string) ([]float32, error)) (*branch, error) {
	p := geo.prefix()
	br := &branch{geo: geo}
	var err error
	if br.basis, err = get(p + "stft.basis"); err != nil {
		return nil, err
	}
	in := geo.freqs()
	for i := range encLays {
		w, err := get(fmt.Sprintf("%sencoder.%d.weight", p, i))
		if err != nil {
			return nil, err
		}
		b, err := get(fmt.Sprintf("%sencoder.%d.bias", p, i))
		if err != nil {
			return nil, err
		}
		cout := encOut[i]
		wr := make([]float32, len(w))
		for o := range cout {
			for c := range in {
				for k := range 3 {
					wr[(o*3+k)*in+c] = w[(o*in+c)*3+k]
				}
			}
		}
		br.enc[i] = encLayer{w: wr, b: b, cin: in, cout: cout, str: encStride[i]}
		in = cout
	}
	var wih, whh, bih, bhh, dw, db []float32
	for _, t := range []struct {
		name string
		dst  *[]float32
	}{{"lstm.weight_ih", &wih}, {"lstm.weight_hh", &whh}, {"lstm.bias_ih", &bih}, {"lstm.bias_hh", &bhh}, {"decoder.weight", &dw}, {"decoder.bias", &db}} {
		if *t.dst, err = get(p + t.name); err != nil {
			return nil, err
		}
	}
	br.wcat = make([]float32, 4*hidden*2*hidden)
	br.bsum = make([]float32, 4*hidden)
	for r := range 4 * hidden {
		copy(br.wcat[r*2*hidden:], wih[r*hidden:(r+1)*hidden])
		copy(br.wcat[r*2*hidden+hidden:], whh[r*hidden:(r+1)*hidden])
		br.bsum[r] = bih[r] + bhh[r]
	}
	br.decW, br.decB = dw, db[0]

	n := geo.context + geo.window + geo.padding()
	br.tSTFT = (n-geo.nfft)/geo.hop + 1
	br.tEnc[0] = br.tSTFT
	for i := range encLays {
		br.tEnc[i+1] = (br.tEnc[i]+2-3)/encStride[i] + 1
	}
	if br.tEnc[encLays] != 1 {
		return nil, fmt.Errorf("silero: %d Hz geometry gives %d encoder frames, want 1", geo.rate, br.tEnc[encLays])
	}
	return br, nil
}

// scratch holds a call's intermediate buffers so that steady-state calls
// allocate nothing.
type scratch struct {
	xp    []float32 // padded input
	spec  []float32 // [T][2F]
	act   [encLays + 1][]float32
	xh    []float32 // [x | h]
	gates []float32
}

func (br *branch) newScratch() *scratch {
	g := br.geo
	s := &scratch{
		xp:    make([]float32, g.context+g.window+g.padding()),
		spec:  make([]float32, br.tSTFT*2*g.freqs()),
		xh:    make([]float32, 2*hidden),
		gates: make([]float32, 4*hidden),
	}
	ch := g.freqs()
	for i := range encLays + 1 {
		// time-major with one zero row before and after for the 3-tap pad
		s.act[i] = make([]float32, (br.tEnc[i]+2)*ch)
		if i < encLays {
			ch = encOut[i]
		}
	}
	return s
}

// step runs the network on x (context followed by window samples), updates
// the LSTM state h, c in place and returns the speech probability.
func (br *branch) step(s *scratch, x []float32, h, c []float32) float32 {
	g := br.geo
	f := g.freqs()
	n := len(x)
	copy(s.xp, x)
	for j := range g.padding() { // reflection without repeating the edge
		s.xp[n+j] = x[n-2-j]
	}
	// STFT as a strided convolution with the stored (windowed DFT) basis.
	mvT(s.spec, 2*f, br.basis, g.nfft, 2*f, s.xp, g.hop, br.tSTFT, g.nfft)
	a := s.act[0]
	for t := range br.tSTFT {
		sp := s.spec[t*2*f:]
		row := a[(t+1)*f:]
		for i := range f {
			re, im := sp[i], sp[f+i]
			row[i] = float32(math.Sqrt(float64(re*re + im*im)))
		}
	}
	for i := range encLays {
		l := &br.enc[i]
		in, out := s.act[i], s.act[i+1]
		tout := br.tEnc[i+1]
		mvT(out[l.cout:], l.cout, l.w, 3*l.cin, l.cout, in, l.str*l.cin, tout, 3*l.cin)
		o := out[l.cout : (tout+1)*l.cout]
		for k := range o {
			o[k] = max(o[k]+l.b[k%l.cout], 0)
		}
	}
	// One LSTM step on the single encoder frame.
	copy(s.xh, s.act[encLays][hidden:2*hidden])
	copy(s.xh[hidden:], h)
	mvT(s.gates, 0, br.wcat, 2*hidden, 4*hidden, s.xh, 0, 1, 2*hidden)
	out := float64(br.decB)
	for i := range hidden {
		gi := sigmoid(s.gates[i] + br.bsum[i])
		gf := sigmoid(s.gates[hidden+i] + br.bsum[hidden+i])
		gg := tanh(s.gates[2*hidden+i] + br.bsum[2*hidden+i])
		gO := sigmoid(s.gates[3*hidden+i] + br.bsum[3*hidden+i])
		c[i] = gf*c[i] + gi*gg
		h[i] = gO * tanh(c[i])
		out += float64(br.decW[i] * max(h[i], 0))
	}
	return float32(1 / (1 + math.Exp(-out)))
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
func tanh(x float32) float32    { return float32(math.Tanh(float64(x))) }
