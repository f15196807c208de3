package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda/driver"
)

// TestDeviceFlag checks --device on the LM commands: a bad name is refused,
// and on a machine without an NVIDIA driver --device cuda fails with the
// reason instead of running on the CPU or panicking.
func TestDeviceFlag(t *testing.T) {
	model := filepath.Join(qwen3Fixture, "qwen3-f32.gguf")
	for _, cmd := range [][]string{
		{"generate", "--weights", model, "--prompt-ids", "1,2,3", "--max-tokens", "2", "--greedy"},
		{"logits", "--weights", model, "--prompt-ids", "1,2,3", "-o", filepath.Join(t.TempDir(), "l.npy")},
	} {
		out, err := runLM(t, append(cmd, "--device", "tpu")...)
		if err == nil || !strings.Contains(err.Error(), `device "tpu"`) {
			t.Errorf("%s --device tpu: %v (%s)", cmd[0], err, out)
		}
		if driver.Init() == nil {
			continue // a driver is present: the GPU tests cover cuda
		}
		out, err = runLM(t, append(cmd, "--device", "cuda:0")...)
		t.Logf("%s --device cuda:0: %v", cmd[0], err)
		if err == nil || !strings.Contains(err.Error(), "no NVIDIA driver") && !strings.Contains(err.Error(), "only supported on linux") {
			t.Errorf("%s --device cuda:0 without a driver: %v (%s)", cmd[0], err, out)
		}
	}
}
