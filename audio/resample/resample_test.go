package resample

import (
	"fmt"
	"math"
	"testing"
)

func sine(n, rate int, f, amp float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
	return x
}

// tone measures the amplitude of frequency f in y[lo:hi] (rate Hz) by
// least squares on sin and cos, and the RMS of what is left.
func tone(y []float32, lo, hi, rate int, f float64) (amp, resid float64) {
	var ss, cc, sc, ys, yc float64
	for i := lo; i < hi; i++ {
		w := 2 * math.Pi * f * float64(i) / float64(rate)
		s, c := math.Sin(w), math.Cos(w)
		ss += s * s
		cc += c * c
		sc += s * c
		ys += float64(y[i]) * s
		yc += float64(y[i]) * c
	}
	det := ss*cc - sc*sc
	a := (ys*cc - yc*sc) / det
	b := (yc*ss - ys*sc) / det
	var r float64
	for i := lo; i < hi; i++ {
		w := 2 * math.Pi * f * float64(i) / float64(rate)
		e := float64(y[i]) - a*math.Sin(w) - b*math.Cos(w)
		r += e * e
	}
	return math.Hypot(a, b), math.Sqrt(r / float64(hi-lo))
}

func rms(y []float32, lo, hi int) float64 {
	var s float64
	for _, v := range y[lo:hi] {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(hi-lo))
}

func db(x float64) float64 { return 20 * math.Log10(x) }

func TestSines(t *testing.T) {
	const out = 16000
	for _, from := range []int{8000, 11025, 22050, 44100, 48000, 96000} {
		n := from // one second
		nyq := math.Min(float64(from), out) / 2
		r, err := New(from, out)
		if err != nil {
			t.Fatal(err)
		}
		// Steady-state region: away from the zero-padded ends.
		margin := r.half*out/from + 16
		m := r.OutputLen(n)
		if m != out {
			t.Errorf("%d Hz: %d output samples for 1 s, want %d", from, m, out)
		}
		// Passband: tones up to 90% of the lower Nyquist keep their
		// amplitude (within 0.01 dB) and their shape (nothing else added).
		for _, frac := range []float64{0.05, 0.3, 0.6, 0.9} {
			f := frac * nyq
			y := r.Resample(sine(n, from, f, 0.5))
			amp, resid := tone(y, margin, m-margin, out, f)
			if math.Abs(db(amp/0.5)) > 0.01 || resid > 0.5*1e-4 {
				t.Errorf("%d Hz, tone %.0f Hz: gain %.4f dB, residual %.1f dB", from, f, db(amp/0.5), db(resid/0.5))
			}
		}
		// Stopband: tones at or above the output Nyquist (downsampling) must
		// not alias into the output; for upsampling, the images of a tone
		// must not appear above the input Nyquist.
		if from > out {
			for _, f := range []float64{8000, 8500, (8000 + float64(from)/2) / 2, 0.99 * float64(from) / 2} {
				y := r.Resample(sine(n, from, f, 0.5))
				if lvl := db(rms(y, margin, m-margin) * math.Sqrt2 / 0.5); lvl > -95 {
					t.Errorf("%d Hz, tone %.0f Hz: %.1f dB leaks through (want ≤ -95)", from, f, lvl)
				}
			}
		} else {
			f := 0.8 * nyq
			y := r.Resample(sine(n, from, f, 0.5))
			// Its image would sit at from - f; with the tone fitted and
			// removed, nothing may be left.
			_, resid := tone(y, margin, m-margin, out, f)
			if db(resid/0.5) > -95 {
				t.Errorf("%d Hz up: %.1f dB left beside the tone (image at %.0f Hz)", from, db(resid/0.5), float64(from)-f)
			}
		}
	}
}

// TestAgainstDirectSum checks the polyphase table path against the kernel
// evaluated in float64 for every tap, on noise of awkward length.
func TestAgainstDirectSum(t *testing.T) {
	for _, rates := range [][2]int{{44100, 16000}, {8000, 16000}, {16001, 16000}, {11025, 16000}} {
		r, err := New(rates[0], rates[1])
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 997)
		s := uint32(1)
		for i := range x {
			s = s*1664525 + 1013904223
			x[i] = float32(int32(s)) / (1 << 31)
		}
		y := r.Resample(x)
		worst := 0.0
		for n := 0; n < len(y); n += 1 + len(y)/301 {
			pos := float64(n) * float64(rates[0]) / float64(rates[1])
			var want float64
			for k := max(0, int(pos)-r.half-1); k < min(len(x), int(pos)+r.half+2); k++ {
				want += r.kernel(pos-float64(k)) * float64(x[k])
			}
			worst = math.Max(worst, math.Abs(want-float64(y[n])))
		}
		if worst > 1e-5 {
			t.Errorf("%v: max error %.3g against the direct sum", rates, worst)
		}
	}
}

func TestEdges(t *testing.T) {
	if y, err := Resample([]float32{1, 2, 3}, 16000, 16000); err != nil || len(y) != 3 || y[2] != 3 {
		t.Errorf("identity: %v %v", y, err)
	}
	if y, err := Resample(nil, 44100, 16000); err != nil || len(y) != 0 {
		t.Errorf("empty: %v %v", y, err)
	}
	for _, rates := range [][2]int{{0, 16000}, {16000, -1}, {1 << 30, 16000}} {
		if _, err := Resample([]float32{1}, rates[0], rates[1]); err == nil {
			t.Errorf("%v: no error", rates)
		}
	}
	// A DC input stays DC (unit gain at 0 Hz) away from the ends.
	r, _ := New(48000, 16000)
	x := make([]float32, 48000)
	for i := range x {
		x[i] = 0.25
	}
	y := r.Resample(x)
	for i := 200; i < len(y)-200; i++ {
		if math.Abs(float64(y[i])-0.25) > 1e-5 {
			t.Fatalf("DC at %d: %v", i, y[i])
		}
	}
}

func BenchmarkResample(b *testing.B) {
	for _, from := range []int{8000, 44100, 48000} {
		b.Run(fmt.Sprint(from), func(b *testing.B) {
			r, _ := New(from, 16000)
			x := sine(from, from, 440, 0.5)
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				r.Resample(x)
			}
		})
	}
}

func ExampleResample() {
	// One second of a 1 kHz tone at 44.1 kHz, converted for a 16 kHz model.
	x := sine(44100, 44100, 1000, 0.5)
	y, err := Resample(x, 44100, 16000)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(y))
	// Output: 16000
}
