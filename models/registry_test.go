package models

import (
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	reset()
	defer reset()
	if _, ok := ByGGUF("qwen3"); ok {
		t.Fatal("empty registry answered")
	}
	k, ok := KnownByGGUF("qwen3")
	if !ok || k.Family != "qwen3" || k.Kind != LM {
		t.Fatalf("known qwen3: %+v", k)
	}
	if k, ok := KnownByHF("qwen3_moe", nil); !ok || k.Family != "qwen3moe" {
		t.Fatalf("known qwen3_moe: %+v", k)
	}
	for _, arch := range []string{"qwen3", "qwen3moe", "llama", "qwen2", "gemma", "gemma2", "gemma3", "bert", "nomic-bert", "mamba", "qwen35", "qwen3next", "whisper", "gpt2", "starcoder", "falcon"} {
		if _, ok := KnownByGGUF(arch); !ok {
			t.Errorf("GGUF arch %s not known", arch)
		}
	}
	if _, ok := KnownByGGUF("no-such-arch"); ok {
		t.Error("unknown arch known")
	}

	Register(Family{Name: "qwen3", Kind: LM, HFModelTypes: []string{"qwen3"}, HFArchitectures: []string{"Qwen3ForCausalLM"}, GGUFArchs: []string{"qwen3"}})
	if f, ok := ByGGUF("qwen3"); !ok || f.Name != "qwen3" {
		t.Error("ByGGUF after Register")
	}
	if f, ok := ByHF("", []string{"Qwen3ForCausalLM"}); !ok || f.Name != "qwen3" {
		t.Error("ByHF by architecture")
	}
	if f, ok := ByHF("qwen3", nil); !ok || f.Name != "qwen3" {
		t.Error("ByHF by model_type")
	}
	if len(Families()) != 1 || LM.String() != "LM" {
		t.Error("Families")
	}
	for _, bad := range []Family{
		{Name: "qwen3", Kind: LM},
		{Name: "x", Kind: LM, GGUFArchs: []string{"qwen3"}},
		{Name: "", Kind: LM},
		{Name: "y"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "models:") {
					t.Errorf("Register(%+v) did not panic: %v", bad, r)
				}
			}()
			Register(bad)
		}()
	}
}
