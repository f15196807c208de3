package tokenizer

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/rlx-go/rlx/format/gguf"
)

// GGUF token types (tokenizer.ggml.token_type).
const (
	ggufNormal      = 1
	ggufUnknown     = 2
	ggufControl     = 3
	ggufUserDefined = 4
	ggufUnused      = 5
	ggufByte        = 6
)

// GGUFVocab is the tokenizer part of a GGUF file's metadata
// (tokenizer.ggml.*). Ids of absent special tokens are -1; nil flags are
// unset.
type GGUFVocab struct {
	Model      string // "gpt2" (byte-level BPE), "llama" (SentencePiece BPE) or "bert" (WordPiece)
	Pre        string // pre-tokenizer name, for gpt2 models
	Tokens     []string
	Scores     []float32
	TokenTypes []int32
	Merges     []string

	BOS, EOS, PAD, UNK, SEP, CLS, MASK, EOT, EOM int32

	AddBOS, AddEOS, AddSpacePrefix *bool
}

// GGUFMetadata is the read access to GGUF metadata the vocabulary loader
// needs; format/gguf's *Metadata provides it.
type GGUFMetadata interface {
	String(key string) (string, bool)
	Strings(key string) ([]string, bool)
	Float32s(key string) ([]float32, bool)
	Int32s(key string) ([]int32, bool)
	Int(key string) (int, bool)
	Bool(key string) (bool, bool)
	Has(key string) bool
}

// LoadGGUF reads the tokenizer of a GGUF file.
func LoadGGUF(path string) (*Tokenizer, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	v, err := VocabFromGGUF(f.Metadata)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	t, err := FromGGUF(v)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return t, nil
}

// VocabFromGGUF collects the tokenizer.ggml.* keys.
func VocabFromGGUF(md GGUFMetadata) (*GGUFVocab, error) {
	const p = "tokenizer.ggml."
	v := &GGUFVocab{BOS: -1, EOS: -1, PAD: -1, UNK: -1, SEP: -1, CLS: -1, MASK: -1, EOT: -1, EOM: -1}
	var ok bool
	if v.Model, ok = md.String(p + "model"); !ok {
		return nil, fmt.Errorf("metadata %smodel: missing (no tokenizer in this file)", p)
	}
	v.Pre, _ = md.String(p + "pre")
	if v.Tokens, ok = md.Strings(p + "tokens"); !ok && v.Model != "none" {
		return nil, fmt.Errorf("metadata %stokens: missing or not a string array", p)
	}
	if md.Has(p + "scores") {
		if v.Scores, ok = md.Float32s(p + "scores"); !ok {
			return nil, fmt.Errorf("metadata %sscores: not a number array", p)
		}
	}
	if md.Has(p + "token_type") {
		if v.TokenTypes, ok = md.Int32s(p + "token_type"); !ok {
			return nil, fmt.Errorf("metadata %stoken_type: not an integer array", p)
		}
	}
	if md.Has(p + "merges") {
		if v.Merges, ok = md.Strings(p + "merges"); !ok {
			return nil, fmt.Errorf("metadata %smerges: not a string array", p)
		}
	}
	for _, s := range []struct {
		key string
		dst *int32
	}{{"bos_token_id", &v.BOS}, {"eos_token_id", &v.EOS}, {"padding_token_id", &v.PAD},
		{"unknown_token_id", &v.UNK}, {"seperator_token_id", &v.SEP}, {"separator_token_id", &v.SEP},
		{"cls_token_id", &v.CLS}, {"mask_token_id", &v.MASK}, {"eot_token_id", &v.EOT}, {"eom_token_id", &v.EOM}} {
		if !md.Has(p + s.key) {
			continue
		}
		id, ok := md.Int(p + s.key)
		if !ok || id < 0 || id >= len(v.Tokens) {
			return nil, fmt.Errorf("metadata %s%s: want a token id below %d", p, s.key, len(v.Tokens))
		}
		*s.dst = int32(id)
	}
	for _, f := range []struct {
		key string
		dst **bool
	}{{"add_bos_token", &v.AddBOS}, {"add_eos_token", &v.AddEOS}, {"add_space_prefix", &v.AddSpacePrefix}} {
		if b, ok := md.Bool(p + f.key); ok {
			*f.dst = &b
		}
	}
	return v, nil
}

// o200kRegex is GPT-4o's split pattern (as in its tokenizer.json).
const o200kRegex = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// ggufPre gives the HF pre-tokenizer a gpt2-model GGUF's
// tokenizer.ggml.pre stands for. The names are llama.cpp's.
func ggufPre(name string) (preTokenizer, bool, error) {
	split := func(re string) preTokenizer {
		m, err := compilePattern(re)
		if err != nil {
			panic(err) // the patterns below are constants
		}
		return splitPre{m, splitIsolated, false}
	}
	bl := byteLevelPre{}
	switch name {
	case "", "default", "gpt-2", "gpt2", "mpt", "olmo", "jais", "phi-2", "jina-v2-code", "roberta-bpe", "gpt3-finnish":
		return preSeq{byteLevelPre{useRegex: true}}, false, nil
	case "llama3", "llama-v3", "llama-bpe", "dbrx", "smaug-bpe", "falcon3", "lfm2", "pixtral":
		return preSeq{split(llama3Regex), bl}, true, nil
	case "qwen2", "stablelm2", "hunyuan", "megrez", "deepseek-r1-qwen", "qwen35":
		return preSeq{split(qwen2Regex), bl}, false, nil
	case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b":
		return preSeq{digitsPre{individual: true}, byteLevelPre{useRegex: true}}, false, nil
	case "falcon":
		return preSeq{punctuationPre{splitContiguous}, byteLevelPre{useRegex: true, mapped: true},
			digitsPre{}, split("[0-9][0-9][0-9]"), unmapPre{}}, false, nil
	case "deepseek-llm":
		// Some code points of this class are written as escapes: they have
		// canonical singleton decompositions, and an editor's NFC would
		// silently turn them into other characters.
		return preSeq{split(`[\r\n]`),
			split(`\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\x{1F7D}ᾀ-ᾴᾶ-ᾼ\x{1FBE}ῂ-ῄῆ-ῌῐ-\x{1FD3}ῖ-\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\x{2126}ℨ\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+`),
			split(`\s?[!-/:-~！-／：-～‘-‟　-。]+`), split(`\s+$`), split(`[一-龥ࠀ-一가-퟿]+`), split(`\p{N}+`), bl}, false, nil
	case "gpt-4o", "gpt4o", "gpt-oss":
		// o200k (tiktoken): whole words in the vocabulary stay whole.
		return preSeq{split(o200kRegex), bl}, true, nil
	case "deepseek-v3":
		return preSeq{split(`\p{N}{1,3}`), split(`[一-龥぀-ゟ゠-ヿ]+`),
			split("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"), bl}, false, nil
	case "deepseek-coder":
		return preSeq{split(`[\r\n]`), split(`\s?\p{L}+`), split(`\s?\p{P}+`), split(`[一-龥ࠀ-一가-퟿]+`), split(`\p{N}`), bl}, false, nil
	}
	return nil, false, fmt.Errorf("tokenizer.ggml.pre %q is not supported (supported: gpt-2, llama3, qwen2, starcoder, falcon, deepseek-llm, deepseek-coder, deepseek-v3, gpt-4o and their aliases)", name)
}

// FromGGUF builds a Tokenizer equivalent to the HF tokenizer the GGUF
// vocabulary was converted from.
func FromGGUF(v *GGUFVocab) (*Tokenizer, error) {
	if v.Model == "none" {
		return nil, fmt.Errorf("tokenizer.ggml.model is \"none\": this file carries no tokenizer (it is fed token ids)")
	}
	n := len(v.Tokens)
	if n == 0 {
		return nil, fmt.Errorf("tokenizer.ggml.tokens: empty")
	}
	if v.Scores != nil && len(v.Scores) != n {
		return nil, fmt.Errorf("tokenizer.ggml.scores: %d entries for %d tokens", len(v.Scores), n)
	}
	if v.TokenTypes != nil && len(v.TokenTypes) != n {
		return nil, fmt.Errorf("tokenizer.ggml.token_type: %d entries for %d tokens", len(v.TokenTypes), n)
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"padding", v.PAD}, {"unknown", v.UNK}, {"separator", v.SEP},
		{"cls", v.CLS}, {"mask", v.MASK}, {"eot", v.EOT}, {"eom", v.EOM}} {
		if s.id < -1 || int(s.id) >= n {
			return nil, fmt.Errorf("tokenizer.ggml.%s_token_id %d: not a token id (vocabulary of %d)", s.name, s.id, n)
		}
	}
	typ := func(i int) int32 {
		if v.TokenTypes == nil {
			return ggufNormal
		}
		return v.TokenTypes[i]
	}
	t := &Tokenizer{specials: Specials{BOS: v.BOS, EOS: v.EOS, PAD: v.PAD, UNK: v.UNK, SEP: v.SEP, CLS: v.CLS, MASK: v.MASK}}
	for _, e := range []int32{v.EOT, v.EOM} {
		if e >= 0 && e != v.EOS {
			t.specials.EOT = append(t.specials.EOT, e)
		}
	}
	vocab := make(map[string]int32, n)
	for i, s := range v.Tokens {
		if _, dup := vocab[s]; !dup {
			vocab[s] = int32(i)
		}
	}
	addedFor := func(keep func(i int) bool) {
		for i, s := range v.Tokens {
			ty := typ(i)
			if (ty == ggufControl || ty == ggufUserDefined) && s != "" && keep(i) {
				t.added = append(t.added, AddedToken{ID: int32(i), Content: s, Special: ty == ggufControl})
			}
		}
	}
	addBOS := func(def bool) bool {
		if v.AddBOS != nil {
			return *v.AddBOS
		}
		return def
	}
	addEOS := func(def bool) bool {
		if v.AddEOS != nil {
			return *v.AddEOS
		}
		return def
	}
	switch v.Model {
	case "gpt2":
		pre, ignoreMerges, err := ggufPre(v.Pre)
		if err != nil {
			return nil, err
		}
		merges := make([][2]string, len(v.Merges))
		for i, l := range v.Merges {
			a, b, ok := strings.Cut(l, " ")
			if !ok {
				return nil, fmt.Errorf("tokenizer.ggml.merges[%d] %q: want two tokens separated by a space", i, l)
			}
			merges[i] = [2]string{a, b}
		}
		m, err := newBPE(vocab, merges, true, "")
		if err != nil {
			return nil, fmt.Errorf("tokenizer.ggml.merges: %w", err)
		}
		m.setIgnoreMerges(ignoreMerges)
		m.tokens = v.Tokens // every id keeps its token, duplicates included
		t.model, t.pre, t.dec = m, simplifyPre(pre), byteLevelDec{}
		addedFor(func(int) bool { return true })
		t.post = bosEOSPost(t, addBOS(false), addEOS(false))
	case "llama":
		if v.Scores == nil {
			return nil, fmt.Errorf("tokenizer.ggml.scores: missing (needed by llama vocabularies)")
		}
		m, err := spmBPE(v, vocab, typ)
		if err != nil {
			return nil, err
		}
		t.model = m
		prefix := v.AddSpacePrefix == nil || *v.AddSpacePrefix
		seq := normalizerSeq{}
		if prefix {
			seq = append(seq, prependNorm("▁"))
		}
		t.normalizer = append(seq, replaceNorm{literalMatcher(" "), "▁"})
		dec := decoderSeq{replaceDec{literalMatcher("▁"), " "}, byteFallbackDec{}, fuseDec{}}
		if prefix {
			dec = append(dec, stripDec{" ", 1, 0})
		}
		t.dec = dec
		addedFor(func(int) bool { return true })
		t.post = bosEOSPost(t, addBOS(true), addEOS(false))
	case "bert":
		unk := v.UNK
		if unk < 0 {
			id, ok := vocab["[UNK]"]
			if !ok {
				return nil, fmt.Errorf("tokenizer.ggml.unknown_token_id: missing and no [UNK] token")
			}
			unk = id
		}
		// llama.cpp's converter marks word starts with ▁ and strips the
		// ## of continuations; undo that to get HF's WordPiece vocabulary.
		wp := make(map[string]int32, n)
		hfTokens := make([]string, n)
		for i, s := range v.Tokens {
			switch {
			case typ(i) == ggufControl || typ(i) == ggufUnknown:
			case strings.HasPrefix(s, "▁"):
				s = s[len("▁"):]
			default:
				s = "##" + s
			}
			hfTokens[i] = s
			if _, dup := wp[s]; !dup {
				wp[s] = int32(i)
			}
		}
		t.model = &wordPiece{vocabTable: vocabTable{ids: wp, tokens: hfTokens}, unk: unk, prefix: "##", maxChars: 100}
		cased := isCased(hfTokens)
		t.normalizer = bertNorm{cleanText: true, chineseChars: true, stripAccents: !cased, lowercase: !cased}
		t.pre = bertPre{}
		t.dec = wordPieceDec{prefix: "##", cleanup: true}
		addedFor(func(i int) bool { return typ(i) == ggufControl })
		cls, sep := v.CLS, v.SEP
		if cls < 0 {
			cls = v.BOS
		}
		if sep < 0 {
			sep = v.EOS
		}
		if cls >= 0 && sep >= 0 && addBOS(true) {
			t.post = &wrapPost{cls: cls, sep: sep, clsTok: v.Tokens[cls], sepTok: v.Tokens[sep]}
		}
	default:
		return nil, fmt.Errorf("tokenizer.ggml.model %q is not supported (supported: gpt2, llama, bert)", v.Model)
	}
	t.finish()
	return t, nil
}

// bosEOSPost is a template adding BOS and/or EOS, or nil.
func bosEOSPost(t *Tokenizer, bos, eos bool) postProcessor {
	bos = bos && t.specials.BOS >= 0
	eos = eos && t.specials.EOS >= 0
	if !bos && !eos {
		return nil
	}
	tp := &templatePost{specials: map[string]specialGroup{}}
	group := func(id int32) string {
		s, _ := t.model.idToken(id)
		tp.specials[s] = specialGroup{ids: []int32{id}, tokens: []string{s}}
		return s
	}
	if bos {
		tp.single = append(tp.single, templatePiece{special: group(t.specials.BOS)})
	}
	tp.single = append(tp.single, templatePiece{})
	if eos {
		tp.single = append(tp.single, templatePiece{special: group(t.specials.EOS)})
	}
	tp.pair = pairOf(tp.single)
	return tp
}

// spmBPE turns a SentencePiece vocabulary with scores into BPE merges the
// way HF's converter does: every split of a piece into two pieces is a
// merge, ranked by the score of the merged piece.
func spmBPE(v *GGUFVocab, vocab map[string]int32, typ func(int) int32) (*bpe, error) {
	type cand struct {
		a, b   string
		ia, ib int32
		score  float32
		id     int32
	}
	var cands []cand
	for i, s := range v.Tokens {
		ty := typ(i)
		if ty != ggufNormal && ty != ggufUserDefined {
			continue
		}
		for k := 1; k < len(s); k++ {
			if !utf8RuneStart(s[k]) {
				continue
			}
			ia, okA := vocab[s[:k]]
			ib, okB := vocab[s[k:]]
			if okA && okB {
				cands = append(cands, cand{s[:k], s[k:], ia, ib, v.Scores[i], int32(i)})
			}
		}
	}
	sort.SliceStable(cands, func(x, y int) bool {
		cx, cy := cands[x], cands[y]
		if cx.score != cy.score {
			return cx.score > cy.score
		}
		if cx.id != cy.id {
			return cx.id < cy.id
		}
		if cx.ia != cy.ia {
			return cx.ia < cy.ia
		}
		return cx.ib < cy.ib
	})
	merges := make([][2]string, len(cands))
	for i, c := range cands {
		merges[i] = [2]string{c.a, c.b}
	}
	m, err := newBPE(vocab, merges, false, "")
	if err != nil {
		return nil, err
	}
	m.byteFallback, m.fuseUnk = true, true
	m.tokens = v.Tokens
	m.unk = v.UNK
	if m.unk < 0 {
		for i := range v.Tokens {
			if typ(i) == ggufUnknown {
				m.unk = int32(i)
				break
			}
		}
	}
	return m, nil
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// isCased guesses whether a WordPiece vocabulary keeps upper case: an
// uncased (lower-cased) vocabulary has almost no capitalized words.
func isCased(tokens []string) bool {
	upper := 0
	for _, s := range tokens {
		if strings.HasPrefix(s, "[") || strings.HasPrefix(s, "<") {
			continue
		}
		for _, r := range s {
			if unicode.IsUpper(r) {
				upper++
			}
			break
		}
	}
	return float64(upper) > math.Max(50, float64(len(tokens))/100)
}
