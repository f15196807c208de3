package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Load reads a tokenizer from path: an HF tokenizer.json file, a model
// folder holding tokenizer.json (and optionally tokenizer_config.json, whose
// special tokens and add_bos_token/add_eos_token flags are applied), or a
// .gguf file (its tokenizer.ggml.* metadata).
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.IsDir() {
		tj := filepath.Join(path, "tokenizer.json")
		data, err := os.ReadFile(tj)
		if err != nil {
			if ggufs, _ := filepath.Glob(filepath.Join(path, "*.gguf")); len(ggufs) == 1 {
				return LoadGGUF(ggufs[0])
			}
			return nil, fmt.Errorf("tokenizer: model folder %s: %w", path, err)
		}
		cfg, err := os.ReadFile(filepath.Join(path, "tokenizer_config.json"))
		if err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		t, err := FromJSONWithConfig(data, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return t, nil
	}
	if isGGUF(path) {
		return LoadGGUF(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := FromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func isGGUF(path string) bool {
	if strings.HasSuffix(strings.ToLower(path), ".gguf") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = f.Read(magic[:])
	return err == nil && string(magic[:]) == "GGUF"
}

// FromJSONWithConfig builds a Tokenizer from tokenizer.json and, when cfg
// is not empty, the model's tokenizer_config.json.
func FromJSONWithConfig(tokenizerJSON, cfg []byte) (*Tokenizer, error) {
	t, err := FromJSON(tokenizerJSON)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(cfg)) == 0 {
		t.guessSpecials()
		return t, nil
	}
	if err := t.applyConfig(cfg); err != nil {
		return nil, fmt.Errorf("tokenizer_config.json: %w", err)
	}
	return t, nil
}

// applyConfig applies what tokenizer_config.json says about special
// tokens, as transformers does when it loads the folder.
func (t *Tokenizer) applyConfig(data []byte) error {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	tokenField := func(key string) (int32, error) {
		raw, ok := c[key]
		if !ok || isNull(raw) {
			return -1, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil {
				return -1, fmt.Errorf("%s: want a string or {\"content\": …}", key)
			}
			s = obj.Content
		}
		id, ok := t.TokenToID(s)
		if !ok {
			return -1, fmt.Errorf("%s %q is not in the vocabulary", key, s)
		}
		return id, nil
	}
	for _, f := range []struct {
		key string
		dst *int32
	}{{"bos_token", &t.specials.BOS}, {"eos_token", &t.specials.EOS}, {"pad_token", &t.specials.PAD},
		{"unk_token", &t.specials.UNK}, {"sep_token", &t.specials.SEP}, {"cls_token", &t.specials.CLS},
		{"mask_token", &t.specials.MASK}} {
		id, err := tokenField(f.key)
		if err != nil {
			return err
		}
		if id >= 0 {
			*f.dst = id
		}
	}
	t.guessEOT()
	flag := func(key string) (*bool, error) {
		raw, ok := c[key]
		if !ok || isNull(raw) {
			return nil, nil
		}
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return &b, nil
	}
	addBOS, err := flag("add_bos_token")
	if err != nil {
		return err
	}
	addEOS, err := flag("add_eos_token")
	if err != nil {
		return err
	}
	t.applyAddFlags(addBOS, addEOS)
	return nil
}

// applyAddFlags makes the post-processor add BOS/EOS as the flags say,
// when a flag is set and disagrees with what it does now.
func (t *Tokenizer) applyAddFlags(addBOS, addEOS *bool) {
	hasBOS, hasEOS := t.postAdds()
	wantBOS := hasBOS
	if addBOS != nil && t.specials.BOS >= 0 {
		wantBOS = *addBOS
	}
	wantEOS := hasEOS
	if addEOS != nil && t.specials.EOS >= 0 {
		wantEOS = *addEOS
	}
	if wantBOS == hasBOS && wantEOS == hasEOS {
		return
	}
	tp := &templatePost{specials: map[string]specialGroup{}}
	group := func(id int32) string {
		s, _ := t.IDToToken(id)
		tp.specials[s] = specialGroup{ids: []int32{id}, tokens: []string{s}}
		return s
	}
	if wantBOS {
		tp.single = append(tp.single, templatePiece{special: group(t.specials.BOS)})
	}
	tp.single = append(tp.single, templatePiece{})
	if wantEOS {
		tp.single = append(tp.single, templatePiece{special: group(t.specials.EOS)})
	}
	tp.pair = pairOf(tp.single)
	t.post = tp
}

// postAdds reports whether the post-processor adds BOS in front and EOS
// at the end of a single sequence.
func (t *Tokenizer) postAdds() (bos, eos bool) {
	if t.post == nil || t.post.added(false) == 0 {
		return false, false
	}
	e := &Encoding{}
	e.push(-2, "", 0, [2]int{}, 0)
	out := runPost(t.post, []*Encoding{e}, true)
	return t.specials.BOS >= 0 && out.IDs[0] == t.specials.BOS,
		t.specials.EOS >= 0 && out.IDs[len(out.IDs)-1] == t.specials.EOS
}

// eotNames are tokens that end a turn in common chat formats.
var eotNames = []string{"<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>", "<|endoftext|>", "<|eom_id|>", "</s>", "<eos>", "<|end_of_text|>"}

func (t *Tokenizer) guessEOT() {
	for _, s := range eotNames {
		if id, ok := t.addedIDs[s]; ok && id != t.specials.EOS {
			t.specials.EOT = append(t.specials.EOT, id)
		}
	}
}

// guessSpecials fills BOS/EOS from the post-processor when no config
// names them.
func (t *Tokenizer) guessSpecials() {
	if tp, ok := t.post.(*templatePost); ok && len(tp.single) > 0 && tp.single[0].special != "" {
		if g := tp.specials[tp.single[0].special]; len(g.ids) == 1 {
			t.specials.BOS = g.ids[0]
		}
	}
	t.guessEOT()
}

// pairOf makes the pair template transformers builds from a single one:
// the single template again for the second sequence, with type id 1.
func pairOf(single []templatePiece) []templatePiece {
	pair := append([]templatePiece(nil), single...)
	for _, p := range single {
		p.typeID = 1
		if p.special == "" {
			p.seq = 1
		}
		pair = append(pair, p)
	}
	return pair
}
