// Package resample converts audio between sample rates with a band-limited
// polyphase filter: a windowed-sinc low-pass (Kaiser window) evaluated at
// the exact fractional position of every output sample.
//
// The filter's passband is flat (within 0.01 dB) to 90% of the lower of the
// two Nyquist frequencies, its -6 dB point is at 95%, and from the Nyquist
// frequency up it attenuates by 100 dB or more, so downsampling does not
// alias and upsampling does not leave images. Samples beyond either end of
// the input are taken as zero.
package resample

import (
	"errors"
	"fmt"
	"math"
)

// Filter design: stopband attenuation and transition band, as fractions of
// the lower Nyquist frequency.
const (
	attenuationDB = 100.0
	passEdge      = 0.90
	stopEdge      = 1.00
	maxRate       = 1 << 22
	// maxTable bounds the precomputed polyphase table (phases × taps); rate
	// pairs with more phases evaluate the kernel per output sample.
	maxTable = 1 << 22
)

// Resampler converts from one fixed rate to another. It is immutable after
// New and safe for concurrent use.
type Resampler struct {
	from, to int
	l, m     int     // to/from reduced: output step = m/l input samples
	scale    float64 // kernel bandwidth relative to the input rate (≤ 1)
	half     int     // kernel half-width in input samples
	beta     float64 // Kaiser window parameter
	i0beta   float64
	table    []float32 // [phase][2·half] taps, or nil
}

// New returns a resampler from rate from to rate to (in Hz).
func New(from, to int) (*Resampler, error) {
	if from <= 0 || to <= 0 || from > maxRate || to > maxRate {
		return nil, fmt.Errorf("resample: unsupported rates %d Hz → %d Hz", from, to)
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, l: to / g, m: from / g}
	ratio := math.Min(1, float64(to)/float64(from)) // lower Nyquist / input Nyquist
	cutoff := (passEdge + stopEdge) / 2             // -6 dB point, in lower-Nyquist units
	r.scale = cutoff * ratio
	// Kaiser's formulas: β for the attenuation, length for the transition
	// width Δω (radians per input sample).
	a := attenuationDB
	r.beta = 0.1102 * (a - 8.7)
	dw := math.Pi * (stopEdge - passEdge) * ratio
	taps := (a - 7.95) / (2.285 * dw)
	r.half = int(math.Ceil(taps / 2))
	r.i0beta = besselI0(r.beta)
	if r.l*2*r.half <= maxTable && r.l != r.m {
		r.table = make([]float32, r.l*2*r.half)
		for p := range r.l {
			frac := float64(p) / float64(r.l)
			for j := range 2 * r.half {
				// tap j multiplies input sample k0 - half + 1 + j, at distance
				// frac + half - 1 - j from the output position.
				r.table[p*2*r.half+j] = float32(r.kernel(frac + float64(r.half-1-j)))
			}
		}
	}
	return r, nil
}

// kernel is the windowed sinc at distance u input samples.
func (r *Resampler) kernel(u float64) float64 {
	x := u / float64(r.half)
	if x <= -1 || x >= 1 {
		return 0
	}
	w := besselI0(r.beta*math.Sqrt(1-x*x)) / r.i0beta
	s := r.scale
	arg := math.Pi * s * u
	if arg == 0 {
		return s * w
	}
	return s * math.Sin(arg) / arg * w
}

// OutputLen is the number of samples Resample returns for n input samples:
// ceil(n · to / from).
func (r *Resampler) OutputLen(n int) int {
	return int((int64(n)*int64(r.l) + int64(r.m) - 1) / int64(r.m))
}

// Resample returns x converted to the output rate.
func (r *Resampler) Resample(x []float32) []float32 {
	if r.l == r.m {
		return append([]float32(nil), x...)
	}
	out := make([]float32, r.OutputLen(len(x)))
	taps := 2 * r.half
	for n := range out {
		pos := int64(n) * int64(r.m) // output position in units of 1/l input samples
		k0 := int(pos / int64(r.l))
		p := int(pos % int64(r.l))
		first := k0 - r.half + 1 // input index of tap 0
		var h []float32
		if r.table != nil {
			h = r.table[p*taps : (p+1)*taps]
		}
		j0, j1 := max(0, -first), min(taps, len(x)-first)
		var s float64
		if h != nil {
			s = float64(dot(h[j0:j1], x[first+j0:first+j1]))
		} else {
			frac := float64(p) / float64(r.l)
			for j := j0; j < j1; j++ {
				s += r.kernel(frac+float64(r.half-1-j)) * float64(x[first+j])
			}
		}
		out[n] = float32(s)
	}
	return out
}

// Resample converts x from rate from to rate to. Equal rates return a copy.
func Resample(x []float32, from, to int) ([]float32, error) {
	r, err := New(from, to)
	if err != nil {
		return nil, err
	}
	if int64(len(x))*int64(r.l)/int64(r.m) > math.MaxInt32 {
		return nil, errors.New("resample: output would exceed 2^31 samples")
	}
	return r.Resample(x), nil
}

// dot is Σ a[i]·b[i] with four independent accumulators, which keeps the
// FPU busy where one running sum would wait on each add.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges quickly for the β used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
