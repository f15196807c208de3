// Package models is the registry of model families. Each family package
// (models/qwen3, models/bert, …) registers itself from init with the names
// that identify its checkpoints — Hugging Face model_type and architectures
// from config.json, GGUF general.architecture — and the kind of runner it
// provides. Tools such as `rlx check` ask the registry whether a checkpoint
// can run, and which family to hand it to.
//
// The registry also knows architectures that rlx recognises but cannot run
// yet, so that it can say "known, not implemented" rather than "unknown".
// A family that registers moves its names out of that list.
package models

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Kind is the sort of runner a family provides.
type Kind int

// Runner kinds.
const (
	LM            Kind = iota + 1 // text generation (decoder LMs, MoE, hybrid)
	Embedder                      // sentence/token embeddings (BERT-like encoders)
	SpeechToText                  // audio → text (Whisper)
	AudioEncoder                  // audio → features (wav2vec2-BERT)
	VisionEncoder                 // image → features (DINOv2)
	Segmenter                     // image + prompts → masks (SAM)
	VAD                           // voice activity detection (Silero)
)

var kindNames = map[Kind]string{
	LM: "LM", Embedder: "Embedder", SpeechToText: "SpeechToText", AudioEncoder: "AudioEncoder",
	VisionEncoder: "VisionEncoder", Segmenter: "Segmenter", VAD: "VAD",
}

// String returns the kind's name ("LM", "Embedder", …).
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Family describes one model family.
type Family struct {
	// Name is the family's short name, usually its package name ("qwen3").
	Name string
	Kind Kind
	// HFModelTypes are config.json "model_type" values ("qwen3").
	HFModelTypes []string
	// HFArchitectures are config.json "architectures" entries ("Qwen3ForCausalLM").
	HFArchitectures []string
	// GGUFArchs are GGUF general.architecture values ("qwen3").
	GGUFArchs []string
	// Open, when set, is the family's constructor. Its signature is the
	// family's business; the root package knows what to assert it to for
	// each Kind.
	Open any
}

var (
	mu       sync.RWMutex
	families []Family
)

// Register adds a family. It is meant to be called from a family package's
// init and panics on a programming error: an empty name or kind, or a name,
// model_type, architecture or GGUF architecture that another family already
// claimed.
func Register(f Family) {
	if f.Name == "" || f.Kind == 0 {
		panic("models: Register needs a Name and a Kind")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, g := range families {
		if g.Name == f.Name {
			panic("models: family " + f.Name + " registered twice")
		}
		for _, pair := range [][2][]string{{f.HFModelTypes, g.HFModelTypes}, {f.HFArchitectures, g.HFArchitectures}, {f.GGUFArchs, g.GGUFArchs}} {
			for _, s := range pair[0] {
				if slices.Contains(pair[1], s) {
					panic(fmt.Sprintf("models: %q is claimed by both %s and %s", s, g.Name, f.Name))
				}
			}
		}
	}
	families = append(families, f)
}

// Families returns the registered families, sorted by name.
func Families() []Family {
	mu.RLock()
	defer mu.RUnlock()
	out := slices.Clone(families)
	slices.SortFunc(out, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ByGGUF returns the family registered for a GGUF general.architecture.
func ByGGUF(arch string) (Family, bool) {
	mu.RLock()
	defer mu.RUnlock()
	for _, f := range families {
		if slices.Contains(f.GGUFArchs, arch) {
			return f, true
		}
	}
	return Family{}, false
}

// ByHF returns the family for a config.json: the architectures entries are
// tried first (they are more specific), then model_type.
func ByHF(modelType string, architectures []string) (Family, bool) {
	mu.RLock()
	defer mu.RUnlock()
	for _, a := range architectures {
		for _, f := range families {
			if slices.Contains(f.HFArchitectures, a) {
				return f, true
			}
		}
	}
	for _, f := range families {
		if modelType != "" && slices.Contains(f.HFModelTypes, modelType) {
			return f, true
		}
	}
	return Family{}, false
}

// Known is an architecture rlx recognises. Registered families are always
// known; the static list adds those without an implementation yet.
type Known struct {
	Family       string // name used in messages, e.g. KnownUnimplemented(qwen3moe)
	Kind         Kind
	HFModelTypes []string
	GGUFArchs    []string
}

// known lists architectures rlx recognises, implemented or not. A family
// that registers takes precedence over its entry here.
var known = []Known{
	{"llama", LM, []string{"llama", "mistral"}, []string{"llama"}},
	{"qwen2", LM, []string{"qwen2"}, []string{"qwen2"}},
	{"qwen2moe", LM, []string{"qwen2_moe"}, []string{"qwen2moe"}},
	{"qwen3", LM, []string{"qwen3"}, []string{"qwen3"}},
	{"qwen3moe", LM, []string{"qwen3_moe"}, []string{"qwen3moe"}},
	{"qwen3next", LM, []string{"qwen3_next"}, []string{"qwen3next"}},
	{"qwen35", LM, []string{"qwen3_5", "qwen3_5_text"}, []string{"qwen35"}},
	{"qwen35moe", LM, []string{"qwen3_5_moe", "qwen3_5_moe_text"}, []string{"qwen35moe"}},
	{"gemma", LM, []string{"gemma"}, []string{"gemma"}},
	{"gemma2", LM, []string{"gemma2"}, []string{"gemma2"}},
	{"gemma3", LM, []string{"gemma3", "gemma3_text"}, []string{"gemma3"}},
	{"gemma3n", LM, []string{"gemma3n", "gemma3n_text"}, []string{"gemma3n"}},
	{"phi3", LM, []string{"phi3"}, []string{"phi3"}},
	{"mixtral", LM, []string{"mixtral"}, []string{"llama"}},
	{"deepseek2", LM, []string{"deepseek_v2", "deepseek_v3"}, []string{"deepseek2"}},
	{"glm4moe", LM, []string{"glm4_moe"}, []string{"glm4moe"}},
	{"gptoss", LM, []string{"gpt_oss"}, []string{"gpt-oss"}},
	{"granite", LM, []string{"granite"}, []string{"granite"}},
	{"olmo2", LM, []string{"olmo2"}, []string{"olmo2"}},
	{"smollm3", LM, []string{"smollm3"}, []string{"smollm3"}},
	{"baichuan", LM, []string{"baichuan"}, []string{"baichuan"}},
	{"falcon", LM, []string{"falcon"}, []string{"falcon"}},
	{"gpt2", LM, []string{"gpt2"}, []string{"gpt2"}},
	{"gptneox", LM, []string{"gpt_neox"}, []string{"gptneox"}},
	{"mpt", LM, []string{"mpt"}, []string{"mpt"}},
	{"refact", LM, nil, []string{"refact"}},
	{"starcoder", LM, []string{"gpt_bigcode"}, []string{"starcoder"}},
	{"starcoder2", LM, []string{"starcoder2"}, []string{"starcoder2"}},
	{"stablelm", LM, []string{"stablelm"}, []string{"stablelm"}},
	{"phi2", LM, []string{"phi"}, []string{"phi2"}},
	{"cohere2", LM, []string{"cohere2"}, []string{"cohere2"}},
	{"internlm2", LM, []string{"internlm2"}, []string{"internlm2"}},
	{"exaone", LM, []string{"exaone"}, []string{"exaone"}},
	{"lfm2", LM, []string{"lfm2"}, []string{"lfm2"}},
	{"mamba", LM, []string{"mamba"}, []string{"mamba"}},
	{"mamba2", LM, []string{"mamba2"}, []string{"mamba2"}},
	{"bert", Embedder, []string{"bert"}, []string{"bert"}},
	{"nomic-bert", Embedder, []string{"nomic_bert"}, []string{"nomic-bert"}},
	{"modernbert", Embedder, []string{"modernbert"}, []string{"modern-bert"}},
	{"xlm-roberta", Embedder, []string{"xlm-roberta", "roberta"}, []string{"bert"}},
	{"jina-bert-v2", Embedder, []string{"jina_bert"}, []string{"jina-bert-v2"}},
	{"whisper", SpeechToText, []string{"whisper"}, []string{"whisper"}},
	{"wav2vec2-bert", AudioEncoder, []string{"wav2vec2-bert"}, nil},
	{"dinov2", VisionEncoder, []string{"dinov2"}, nil},
	{"sam", Segmenter, []string{"sam"}, nil},
	{"silero-vad", VAD, nil, nil},
}

// KnownByGGUF returns the known (possibly unimplemented) architecture for a
// GGUF general.architecture. A registered family answers first.
func KnownByGGUF(arch string) (Known, bool) {
	if f, ok := ByGGUF(arch); ok {
		return Known{Family: f.Name, Kind: f.Kind, HFModelTypes: f.HFModelTypes, GGUFArchs: f.GGUFArchs}, true
	}
	for _, k := range known {
		if slices.Contains(k.GGUFArchs, arch) {
			return k, true
		}
	}
	return Known{}, false
}

// KnownByHF returns the known architecture for a config.json model_type
// (architectures are also accepted when a family registered them).
func KnownByHF(modelType string, architectures []string) (Known, bool) {
	if f, ok := ByHF(modelType, architectures); ok {
		return Known{Family: f.Name, Kind: f.Kind, HFModelTypes: f.HFModelTypes, GGUFArchs: f.GGUFArchs}, true
	}
	for _, k := range known {
		if modelType != "" && slices.Contains(k.HFModelTypes, modelType) {
			return k, true
		}
	}
	return Known{}, false
}

// KnownArchitectures lists every architecture of the static list (for
// documentation and `rlx check`'s help).
func KnownArchitectures() []Known { return slices.Clone(known) }

// reset empties the registry (tests only).
func reset() {
	mu.Lock()
	families = nil
	mu.Unlock()
}
