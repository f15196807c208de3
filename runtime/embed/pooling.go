package embed

import (
	"fmt"
	"math"
	"strings"
)

// Pooling turns a sequence's token vectors into one sentence vector.
type Pooling int

// Poolings, as sentence-transformers names them in 1_Pooling/config.json.
const (
	// Default means "what the checkpoint says" (1_Pooling/config.json, a
	// GGUF pooling_type), falling back to Mean.
	Default     Pooling = iota
	Mean                // average of the token vectors (padding excluded)
	CLS                 // the first token's vector
	Max                 // element-wise maximum over the tokens
	Last                // the last token's vector (decoder-style embedders)
	MeanSqrtLen         // sum of the token vectors divided by √tokens
	None                // no pooling: only token-level outputs
)

var poolingNames = map[Pooling]string{Default: "default", Mean: "mean", CLS: "cls", Max: "max", Last: "last", MeanSqrtLen: "mean_sqrt_len", None: "none"}

// String is the pooling's short name.
func (p Pooling) String() string {
	if s, ok := poolingNames[p]; ok {
		return s
	}
	return fmt.Sprintf("Pooling(%d)", int(p))
}

// ParsePooling reads a pooling name: mean, cls, max, last (also
// "lasttoken"), mean_sqrt_len, none, default.
func ParsePooling(s string) (Pooling, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return Default, nil
	case "mean", "mean_tokens":
		return Mean, nil
	case "cls", "cls_token", "first":
		return CLS, nil
	case "max", "max_tokens":
		return Max, nil
	case "last", "lasttoken", "last_token":
		return Last, nil
	case "mean_sqrt_len", "mean_sqrt_len_tokens":
		return MeanSqrtLen, nil
	case "none":
		return None, nil
	}
	return 0, fmt.Errorf("embed: pooling %q (want mean, cls, max, last, mean_sqrt_len or none)", s)
}

// pool reduces tokens (n rows of width h, row-major) to dst. skip leading
// rows are left out of mean/max/mean_sqrt_len (a prompt with
// include_prompt false), as sentence-transformers masks them.
func pool(dst, tokens []float32, n, h, skip int, p Pooling) {
	clear(dst)
	if n == 0 {
		return
	}
	lo := min(skip, n-1)
	switch p {
	case CLS:
		copy(dst, tokens[:h])
	case Last:
		copy(dst, tokens[(n-1)*h:n*h])
	case Max:
		copy(dst, tokens[lo*h:(lo+1)*h])
		for r := lo + 1; r < n; r++ {
			row := tokens[r*h : (r+1)*h]
			for i, v := range row {
				if v > dst[i] {
					dst[i] = v
				}
			}
		}
	default: // Mean, MeanSqrtLen
		acc := make([]float64, h)
		for r := lo; r < n; r++ {
			for i, v := range tokens[r*h : (r+1)*h] {
				acc[i] += float64(v)
			}
		}
		div := float64(n - lo)
		if p == MeanSqrtLen {
			div = math.Sqrt(div)
		}
		for i := range dst {
			dst[i] = float32(acc[i] / div)
		}
	}
}

// Normalize scales v to unit L2 length in place (a zero vector stays zero),
// as torch.nn.functional.normalize does (norm clamped below at 1e-12).
func Normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := max(math.Sqrt(s), 1e-12)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
}
