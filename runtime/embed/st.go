package embed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Folder is what a sentence-transformers model folder says about how to
// turn the encoder's outputs into sentence embeddings.
type Folder struct {
	// ModelDir is the folder holding the transformer's config.json and
	// weights (the root, or the Transformer module's subfolder).
	ModelDir string
	// Pooling from 1_Pooling/config.json (Default when absent).
	Pooling Pooling
	// IncludePrompt false leaves a prompt's tokens out of mean/max pooling.
	IncludePrompt bool
	// Normalize: the pipeline ends with a Normalize module.
	Normalize bool
	// MaxSeqLength from sentence_bert_config.json (0 when absent).
	MaxSeqLength int
	// Lowercase: sentence_bert_config.json's do_lower_case.
	Lowercase bool
	// Prompts and DefaultPrompt from config_sentence_transformers.json.
	Prompts       map[string]string
	DefaultPrompt string
	// SentenceTransformers reports whether modules.json was found.
	SentenceTransformers bool
}

type module struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

// ReadFolder reads the sentence-transformers files of dir. A folder
// without modules.json is a plain Hugging Face model: the zero pipeline
// (Default pooling, no normalisation) with ModelDir = dir. Modules other
// than Transformer, Pooling and Normalize (Dense, …) are an error, since
// leaving them out would give different vectors than Python does.
func ReadFolder(dir string) (*Folder, error) {
	f := &Folder{ModelDir: dir, IncludePrompt: true}
	data, err := os.ReadFile(filepath.Join(dir, "modules.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	f.SentenceTransformers = true
	var mods []module
	if err := json.Unmarshal(data, &mods); err != nil {
		return nil, fmt.Errorf("embed: %s: %w", filepath.Join(dir, "modules.json"), err)
	}
	for _, m := range mods {
		sub := filepath.Join(dir, filepath.FromSlash(m.Path))
		if rel, err := filepath.Rel(dir, sub); err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("embed: modules.json: module path %q leaves the folder", m.Path)
		}
		kind := m.Type[strings.LastIndex(m.Type, ".")+1:]
		switch kind {
		case "Transformer":
			f.ModelDir = sub
			if err := f.readBertConfig(sub); err != nil {
				return nil, err
			}
		case "Pooling":
			if err := f.readPooling(sub); err != nil {
				return nil, err
			}
		case "Normalize":
			f.Normalize = true
		default:
			return nil, fmt.Errorf("embed: modules.json: module %q (%s) is not supported", m.Path, m.Type)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "config_sentence_transformers.json")); err == nil {
		var c struct {
			Prompts       map[string]string `json:"prompts"`
			DefaultPrompt *string           `json:"default_prompt_name"`
		}
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("embed: config_sentence_transformers.json: %w", err)
		}
		f.Prompts = c.Prompts
		if c.DefaultPrompt != nil {
			f.DefaultPrompt = c.Prompts[*c.DefaultPrompt]
		}
	}
	return f, nil
}

func (f *Folder) readBertConfig(dir string) error {
	p := filepath.Join(dir, "sentence_bert_config.json")
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	var c struct {
		MaxSeq    int  `json:"max_seq_length"`
		Lowercase bool `json:"do_lower_case"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("embed: %s: %w", p, err)
	}
	if c.MaxSeq < 0 {
		return fmt.Errorf("embed: %s: max_seq_length %d", p, c.MaxSeq)
	}
	f.MaxSeqLength, f.Lowercase = c.MaxSeq, c.Lowercase
	return nil
}

func (f *Folder) readPooling(dir string) error {
	p := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("embed: pooling module: %w", err)
	}
	var c struct {
		Mode          string `json:"pooling_mode"`
		CLS           bool   `json:"pooling_mode_cls_token"`
		Mean          bool   `json:"pooling_mode_mean_tokens"`
		Max           bool   `json:"pooling_mode_max_tokens"`
		MeanSqrt      bool   `json:"pooling_mode_mean_sqrt_len_tokens"`
		Weighted      bool   `json:"pooling_mode_weightedmean_tokens"`
		Last          bool   `json:"pooling_mode_lasttoken"`
		IncludePrompt *bool  `json:"include_prompt"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("embed: %s: %w", p, err)
	}
	if c.IncludePrompt != nil {
		f.IncludePrompt = *c.IncludePrompt
	}
	if c.Weighted {
		return fmt.Errorf("embed: %s: weighted-mean pooling is not supported", p)
	}
	var modes []Pooling
	for _, m := range []struct {
		on bool
		p  Pooling
	}{{c.CLS, CLS}, {c.Mean, Mean}, {c.Max, Max}, {c.MeanSqrt, MeanSqrtLen}, {c.Last, Last}} {
		if m.on {
			modes = append(modes, m.p)
		}
	}
	if c.Mode != "" && len(modes) == 0 {
		pm, err := ParsePooling(c.Mode)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		modes = append(modes, pm)
	}
	switch len(modes) {
	case 0:
		return fmt.Errorf("embed: %s names no pooling mode", p)
	case 1:
		f.Pooling = modes[0]
		return nil
	}
	return fmt.Errorf("embed: %s: several pooling modes at once (concatenated) are not supported", p)
}
