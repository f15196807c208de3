package rlx

import (
	"fmt"
	"strings"

	"github.com/rlx-go/rlx/tensor"
)

// Option configures OpenLM.
type Option func(*config) error

type config struct {
	device    string
	maxSeq    int
	kv        tensor.DType
	maxMemory int64
	threads   int
	prefer    string
	progress  func(done, total int64)
}

// WithDevice picks where the model runs: "cpu" (the default), "cuda" (GPU
// 0) or "cuda:N". On a GPU, ops it has no kernel for run on the CPU (rlx
// devices lists them); opening fails, saying why, when no NVIDIA driver,
// GPU or CUDA library is found.
func WithDevice(name string) Option {
	return func(c *config) error {
		if _, _, err := parseDevice(name); err != nil {
			return err
		}
		c.device = name
		return nil
	}
}

// WithMaxSeq sets the context length: the KV cache is preallocated for n
// tokens (default: the model's context length, at most 4096).
func WithMaxSeq(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("rlx: context length %d", n)
		}
		c.maxSeq = n
		return nil
	}
}

// WithPrecision sets the KV cache element type: "f16" (the default) or
// "f32" (exact, twice the memory). Weights keep their stored type.
func WithPrecision(p string) Option {
	return func(c *config) error {
		switch strings.ToLower(p) {
		case "f16", "fp16", "float16":
			c.kv = tensor.F16
		case "f32", "fp32", "float32":
			c.kv = tensor.F32
		default:
			return fmt.Errorf("rlx: precision %q (want f16 or f32)", p)
		}
		return nil
	}
}

// WithMaxMemory makes OpenLM fail when the weights plus the KV cache would
// need more than bytes.
func WithMaxMemory(bytes int64) Option {
	return func(c *config) error {
		if bytes <= 0 {
			return fmt.Errorf("rlx: memory limit %d", bytes)
		}
		c.maxMemory = bytes
		return nil
	}
}

// WithThreads sets the number of CPU threads (default: all cores).
func WithThreads(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("rlx: %d threads", n)
		}
		c.threads = n
		return nil
	}
}

// WithQuant picks among several GGUF files of one model in a folder
// ("Q4_K_M", "Q8_0", "F16"; default Q4_K_M).
func WithQuant(name string) Option {
	return func(c *config) error {
		c.prefer = name
		return nil
	}
}

// WithProgress has OpenLM report how far it is in preparing the weights
// (packing them into the kernels' layouts, which reads every byte that is
// packed): report is called from the goroutine running OpenLM with the
// bytes of weights prepared so far and their total, first with done = 0
// and last with done = total; done never decreases. A weight a kernel uses
// in place (an embedding table) counts as prepared when its kernel is:
// its pages are read from disk as the first tokens use them.
func WithProgress(report func(done, total int64)) Option {
	return func(c *config) error {
		c.progress = report
		return nil
	}
}
