package rlx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/fallback"
)

// parseDevice splits a device name: "cpu", "cuda" (GPU 0) or "cuda:N".
func parseDevice(name string) (kind string, ordinal int, err error) {
	switch {
	case name == "cpu" || name == "cuda":
		return name, 0, nil
	case strings.HasPrefix(name, "cuda:"):
		n, err := strconv.Atoi(name[len("cuda:"):])
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("rlx: device %q: want cuda:N with N a GPU ordinal ≥ 0", name)
		}
		return "cuda", n, nil
	}
	return "", 0, fmt.Errorf("rlx: device %q is not available (want \"cpu\", \"cuda\" or \"cuda:N\")", name)
}

// openBackend makes the backend a device name asks for: the CPU, or one
// GPU with the CPU running the ops the GPU lacks (see backend/fallback).
// release frees the GPU once every program compiled for it is closed.
// Without a usable GPU the error says why (no driver, no such device, a
// library missing). halfActs lets the GPU round the activations of its
// tensor-core matmuls with F16/BF16 weights to the weight's type, as it
// does for quantized weights (cuda.Options.HalfActivations): the language
// models' default precision, whose F16 KV cache is rounded as much.
func openBackend(device string, co cpu.Options, halfActs bool) (be backend.Backend, release func(), err error) {
	kind, ordinal, err := parseDevice(device)
	if err != nil {
		return nil, nil, err
	}
	host := cpu.New(co)
	if kind == "cpu" {
		return host, func() {}, nil
	}
	gpu, err := cuda.New(cuda.Options{Device: ordinal, HalfActivations: halfActs})
	if err != nil {
		return nil, nil, fmt.Errorf("rlx: device %s: %w", device, err)
	}
	return fallback.New(gpu, host), func() { gpu.Close() }, nil
}
