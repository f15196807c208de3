package rope

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// longropeRef is testdata/longrope.json, written by
// scripts/refgen/longrope_ref.py with transformers' own rotary modules.
type longropeRef struct {
	Transformers string `json:"transformers"`
	Cases        []struct {
		Case struct {
			Name       string    `json:"name"`
			Hidden     int       `json:"hidden"`
			Heads      int       `json:"heads"`
			Theta      float64   `json:"theta"`
			MaxPos     int       `json:"max_pos"`
			Orig       int       `json:"orig"`
			Short      []float64 `json:"short"`
			Long       []float64 `json:"long"`
			Attn       *float64  `json:"attn"`
			PRF        *float64  `json:"prf"`
			OrigInRope bool      `json:"orig_in_rope"`
		} `json:"case"`
		Styles map[string]struct {
			Error     string    `json:"error"`
			InvFreq   []float32 `json:"inv_freq_init"`
			Attention float64   `json:"attention_scaling"`
			Short     ropeRun   `json:"short"`
			Long      ropeRun   `json:"long"`
		} `json:"styles"`
	} `json:"cases"`
}

type ropeRun struct {
	SeqLen    int         `json:"seq_len"`
	Positions []int       `json:"positions"`
	InvFreq   []float32   `json:"inv_freq"`
	Cos       [][]float64 `json:"cos"`
	Sin       [][]float64 `json:"sin"`
}

// TestLongropeTransformers checks longrope inverse frequencies (to the
// bit), the attention factor, and cos/sin at positions of a short and a
// long sequence against transformers' Phi3/Llama rotary embeddings, for
// full and partial rotary dimensions, derived and explicit attention
// factors, and a scale of 1.
func TestLongropeTransformers(t *testing.T) {
	data, err := os.ReadFile("testdata/longrope.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref longropeRef
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range ref.Cases {
		cc := c.Case
		head := cc.Hidden / cc.Heads
		dim := head
		if cc.PRF != nil {
			dim = int(float64(head) * *cc.PRF)
		}
		s := Scaling{Type: "longrope", Theta: cc.Theta, Dim: dim, MaxPos: cc.MaxPos, OriginalMaxPos: cc.Orig,
			Longrope: &Longrope{Short: cc.Short, Long: cc.Long}}
		if cc.Attn != nil {
			s.AttentionFactor = *cc.Attn
		}
		for style, r := range c.Styles {
			name := cc.Name + "/" + style
			if r.Error != "" {
				t.Fatalf("%s: the reference failed: %s", name, r.Error)
			}
			for _, run := range []struct {
				seq  int
				want []float32
			}{{0, r.InvFreq}, {r.Short.SeqLen, r.Short.InvFreq}, {r.Long.SeqLen, r.Long.InvFreq}} {
				got, att, err := InvFreq(s, run.seq)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(got) != len(run.want) {
					t.Fatalf("%s seq %d: %d frequencies, want %d", name, run.seq, len(got), len(run.want))
				}
				for i := range got {
					if got[i] != run.want[i] {
						t.Errorf("%s seq %d: inv_freq[%d] = %v, transformers %v", name, run.seq, i, got[i], run.want[i])
					}
				}
				if math.Abs(att-r.Attention) > 1e-12 {
					t.Errorf("%s: attention factor %v, transformers %v", name, att, r.Attention)
				}
			}
			for _, run := range []ropeRun{r.Short, r.Long} {
				inv, att, _ := InvFreq(s, run.SeqLen)
				for k, p := range run.Positions {
					for i := range dim {
						// transformers: float32 angle, float32 cos/sin, then × factor.
						a := float64(float32(p) * inv[i%(dim/2)])
						if d := math.Abs(float64(float32(math.Cos(a)))*att - run.Cos[k][i]); d > 1e-6 {
							t.Fatalf("%s seq %d pos %d: cos[%d] off by %g", name, run.SeqLen, p, i, d)
						}
						if d := math.Abs(float64(float32(math.Sin(a)))*att - run.Sin[k][i]); d > 1e-6 {
							t.Fatalf("%s seq %d pos %d: sin[%d] off by %g", name, run.SeqLen, p, i, d)
						}
					}
				}
			}
		}
	}
}

func TestLongropeErrors(t *testing.T) {
	ok := Scaling{Type: "longrope", Theta: 10000, Dim: 4, MaxPos: 64, OriginalMaxPos: 32,
		Longrope: &Longrope{Short: []float64{1, 1}, Long: []float64{1, 2}}}
	if _, _, err := InvFreq(ok, 0); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Scaling){
		"no factors":      func(s *Scaling) { s.Longrope = nil },
		"short factors":   func(s *Scaling) { s.Longrope = &Longrope{Short: []float64{1}, Long: []float64{1, 2}} },
		"long factors":    func(s *Scaling) { s.Longrope = &Longrope{Short: []float64{1, 1}} },
		"zero factor":     func(s *Scaling) { s.Longrope = &Longrope{Short: []float64{1, 0}, Long: []float64{1, 2}} },
		"no context size": func(s *Scaling) { s.MaxPos, s.OriginalMaxPos = 0, 0 },
	} {
		s := ok
		edit(&s)
		if _, _, err := InvFreq(s, 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
