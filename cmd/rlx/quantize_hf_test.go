package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/format/gguf"
)

// rlxErr runs rlx and returns its error.
func rlxErr(args ...string) error {
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	defer rootCmd.SetArgs(nil)
	return rootCmd.Execute()
}

func TestQuantizeSafetensorsFolder(t *testing.T) {
	dir := t.TempDir()
	const hf = "../../models/llama/testdata/hf"
	for _, typ := range []string{"Q4_K_M", "F16"} {
		out := filepath.Join(dir, typ+".gguf")
		msg := runCmd(t, "quantize", hf, out, "--type", typ, "--threads", "2")
		if !strings.Contains(msg, "converted") || !strings.Contains(msg, "(llama)") {
			t.Errorf("--type %s: output %q", typ, msg)
		}
		f, err := gguf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		ft, _ := f.Metadata.FileType()
		want, _ := gguf.ParseFileType(typ)
		if f.Metadata.Arch() != "llama" || ft != want {
			t.Errorf("--type %s: wrote arch %q file type %s", typ, f.Metadata.Arch(), ft)
		}
		if _, ok := f.Tensor("rope_freqs.weight"); !ok {
			t.Errorf("--type %s: no rope_freqs.weight for llama3 rope scaling", typ)
		}
		f.Close()
	}
	// A folder without config.json, and float types for GGUF input, are refused.
	if err := rlxErr("quantize", dir, filepath.Join(dir, "x.gguf"), "--type", "Q8_0"); err == nil || !strings.Contains(err.Error(), "Hugging Face") {
		t.Errorf("folder without config.json: %v", err)
	}
	if err := rlxErr("quantize", filepath.Join(dir, "F16.gguf"), filepath.Join(dir, "y.gguf"), "--type", "F16"); err == nil || !strings.Contains(err.Error(), "unsupported --type") {
		t.Errorf("--type F16 on GGUF input: %v", err)
	}
}
