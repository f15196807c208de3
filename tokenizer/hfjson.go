package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// FromJSON builds a Tokenizer from the contents of an HF tokenizer.json.
func FromJSON(data []byte) (*Tokenizer, error) {
	var f struct {
		AddedTokens   []addedJSON                `json:"added_tokens"`
		Normalizer    json.RawMessage            `json:"normalizer"`
		PreTokenizer  json.RawMessage            `json:"pre_tokenizer"`
		Model         map[string]json.RawMessage `json:"model"` // decoded in this pass: the vocabulary is big
		PostProcessor json.RawMessage            `json:"post_processor"`
		Decoder       json.RawMessage            `json:"decoder"`
		Truncation    json.RawMessage            `json:"truncation"`
		Padding       json.RawMessage            `json:"padding"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	t := &Tokenizer{specials: noSpecials()}
	var err error
	if t.normalizer, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, fmt.Errorf("tokenizer.json: normalizer: %w", err)
	}
	byteLevel := false
	if t.pre, err = parsePreTokenizer(f.PreTokenizer, &byteLevel); err != nil {
		return nil, fmt.Errorf("tokenizer.json: pre_tokenizer: %w", err)
	}
	if seq, ok := t.pre.(preSeq); ok {
		for i, p := range seq[:len(seq)-1] {
			if b, ok := p.(byteLevelPre); ok {
				// Later pre-tokenizers must see byte-level characters.
				b.mapped = true
				seq[i] = b
				t.pre = append(seq, unmapPre{})
			}
		}
	}
	t.pre = simplifyPre(t.pre)
	if t.model, err = parseModel(f.Model, byteLevel); err != nil {
		return nil, fmt.Errorf("tokenizer.json: model: %w", err)
	}
	for i, a := range f.AddedTokens {
		if a.Content == "" {
			return nil, fmt.Errorf("tokenizer.json: added_tokens[%d]: empty content", i)
		}
		t.added = append(t.added, AddedToken(a))
	}
	t.finish()
	if t.post, err = parsePost(f.PostProcessor, t); err != nil {
		return nil, fmt.Errorf("tokenizer.json: post_processor: %w", err)
	}
	if t.post != nil {
		probe := []*Encoding{{}, {}}
		for _, id := range append(runPost(t.post, probe[:1], true).IDs, runPost(t.post, probe, true).IDs...) {
			if _, ok := t.IDToToken(id); !ok {
				return nil, fmt.Errorf("tokenizer.json: post_processor: special token id %d is not in the vocabulary", id)
			}
		}
	}
	if t.dec, err = parseDecoder(f.Decoder); err != nil {
		return nil, fmt.Errorf("tokenizer.json: decoder: %w", err)
	}
	if err := parseTruncPad(f.Truncation, f.Padding, t); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if u, ok := t.model.(*bpe); ok && u.unk >= 0 {
		t.specials.UNK = u.unk
	}
	if w, ok := t.model.(*wordPiece); ok {
		t.specials.UNK = w.unk
	}
	return t, nil
}

type addedJSON struct {
	ID         int32  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// component decodes a {"type": ...} object into its type and fields.
func component(raw json.RawMessage) (string, map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", nil, err
	}
	var typ string
	if err := json.Unmarshal(m["type"], &typ); err != nil || typ == "" {
		return "", nil, fmt.Errorf("missing or bad \"type\"")
	}
	return typ, m, nil
}

// field decodes m[key] into v when present and not null.
func field(m map[string]json.RawMessage, key string, v any) error {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("field %q: %w", key, err)
	}
	return nil
}

func fields(m map[string]json.RawMessage, kv ...any) error {
	for i := 0; i < len(kv); i += 2 {
		if err := field(m, kv[i].(string), kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// parsePattern reads {"String": s} or {"Regex": r}.
func parsePattern(m map[string]json.RawMessage) (matcher, error) {
	var p struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	}
	if err := field(m, "pattern", &p); err != nil {
		return nil, err
	}
	switch {
	case p.String != nil:
		return literalMatcher(*p.String), nil
	case p.Regex != nil:
		return compilePattern(*p.Regex)
	}
	return nil, fmt.Errorf("pattern: want String or Regex")
}

// parseReplace reads a Replace normalizer's or decoder's pattern and the
// content that replaces its matches.
func parseReplace(m map[string]json.RawMessage) (matcher, string, error) {
	pat, err := parsePattern(m)
	if err != nil {
		return nil, "", err
	}
	var content string
	if err := field(m, "content", &content); err != nil {
		return nil, "", err
	}
	return pat, content, nil
}

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, m, err := component(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
	case "Lowercase":
		return lowercase{}, nil
	case "StripAccents":
		return stripAccents{}, nil
	case "Strip":
		var l, r bool
		if err := fields(m, "strip_left", &l, "strip_right", &r); err != nil {
			return nil, err
		}
		return stripNorm{l, r}, nil
	case "Replace":
		pat, content, err := parseReplace(m)
		if err != nil {
			return nil, err
		}
		return replaceNorm{pat, content}, nil
	case "Prepend":
		var s string
		if err := field(m, "prepend", &s); err != nil {
			return nil, err
		}
		return prependNorm(s), nil
	case "BertNormalizer":
		b := bertNorm{cleanText: true, chineseChars: true, lowercase: true}
		var strip *bool
		if err := fields(m, "clean_text", &b.cleanText, "handle_chinese_chars", &b.chineseChars,
			"lowercase", &b.lowercase, "strip_accents", &strip); err != nil {
			return nil, err
		}
		b.stripAccents = b.lowercase
		if strip != nil {
			b.stripAccents = *strip
		}
		return b, nil
	case "Sequence":
		seq, err := parseSequence(m, "normalizers", parseNormalizer)
		if err != nil {
			return nil, err
		}
		return normalizerSeq(seq), nil
	case "Precompiled":
		var cm string
		if err := field(m, "precompiled_charsmap", &cm); err != nil {
			return nil, err
		}
		if cm == "" {
			return normalizerSeq{}, nil
		}
	}
	return nil, fmt.Errorf("normalizer type %q is not supported", typ)
}

func parseBehavior(m map[string]json.RawMessage, def splitBehavior) (splitBehavior, error) {
	var s string
	if err := field(m, "behavior", &s); err != nil {
		return 0, err
	}
	switch s {
	case "":
		return def, nil
	case "Removed":
		return splitRemoved, nil
	case "Isolated":
		return splitIsolated, nil
	case "MergedWithPrevious":
		return splitMergedWithPrevious, nil
	case "MergedWithNext":
		return splitMergedWithNext, nil
	case "Contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("split behavior %q is not supported", s)
}

func prependScheme(m map[string]json.RawMessage) (string, error) {
	scheme := "always"
	var legacy *bool
	if err := fields(m, "prepend_scheme", &scheme, "add_prefix_space", &legacy); err != nil {
		return "", err
	}
	if _, ok := m["prepend_scheme"]; !ok && legacy != nil && !*legacy {
		scheme = "never"
	}
	switch scheme {
	case "always", "first", "never":
		return scheme, nil
	}
	return "", fmt.Errorf("prepend_scheme %q is not supported", scheme)
}

func parsePreTokenizer(raw json.RawMessage, byteLevel *bool) (preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, m, err := component(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "Split":
		pat, err := parsePattern(m)
		if err != nil {
			return nil, err
		}
		b, err := parseBehavior(m, splitIsolated)
		if err != nil {
			return nil, err
		}
		var invert bool
		if err := field(m, "invert", &invert); err != nil {
			return nil, err
		}
		return splitPre{pat, b, invert}, nil
	case "ByteLevel":
		b := byteLevelPre{useRegex: true}
		if err := fields(m, "add_prefix_space", &b.addPrefixSpace, "use_regex", &b.useRegex); err != nil {
			return nil, err
		}
		*byteLevel = true
		return b, nil
	case "Whitespace":
		return whitespacePre{}, nil
	case "WhitespaceSplit":
		return whitespaceSplitPre{}, nil
	case "BertPreTokenizer":
		return bertPre{}, nil
	case "Metaspace":
		p := metaspacePre{replacement: "▁", splitWords: true}
		if err := fields(m, "replacement", &p.replacement, "split", &p.splitWords); err != nil {
			return nil, err
		}
		if p.prepend, err = prependScheme(m); err != nil {
			return nil, err
		}
		return p, nil
	case "Digits":
		var d digitsPre
		if err := field(m, "individual_digits", &d.individual); err != nil {
			return nil, err
		}
		return d, nil
	case "Punctuation":
		b, err := parseBehavior(m, splitIsolated)
		if err != nil {
			return nil, err
		}
		return punctuationPre{b}, nil
	case "CharDelimiterSplit":
		var d string
		if err := field(m, "delimiter", &d); err != nil {
			return nil, err
		}
		r := []rune(d)
		if len(r) != 1 {
			return nil, fmt.Errorf("CharDelimiterSplit: delimiter %q is not one character", d)
		}
		return charDelimiterPre(r[0]), nil
	case "Sequence":
		seq, err := parseSequence(m, "pretokenizers", func(r json.RawMessage) (preTokenizer, error) { return parsePreTokenizer(r, byteLevel) })
		if err != nil {
			return nil, err
		}
		return preSeq(seq), nil
	}
	return nil, fmt.Errorf("pre-tokenizer type %q is not supported", typ)
}

// parseSequence parses the components listed under key of a "Sequence"
// component with parse, in order, dropping the null ones (parse returns
// the zero T for them). An error names the failing element.
func parseSequence[T comparable](m map[string]json.RawMessage, key string, parse func(json.RawMessage) (T, error)) ([]T, error) {
	var list []json.RawMessage
	if err := field(m, key, &list); err != nil {
		return nil, err
	}
	var seq []T
	var none T
	for i, r := range list {
		c, err := parse(r)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		if c != none {
			seq = append(seq, c)
		}
	}
	return seq, nil
}

// parseMerges accepts both ["a b", …] and [["a", "b"], …].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("merges: %w", err)
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok {
			return nil, fmt.Errorf("merges[%d] %q: want two tokens separated by a space", i, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

func parseModel(m map[string]json.RawMessage, byteLevel bool) (model, error) {
	if m == nil {
		return nil, fmt.Errorf("missing")
	}
	var typ string
	if err := field(m, "type", &typ); err != nil {
		return nil, err
	}
	if typ == "" { // old files: guess from the fields
		switch {
		case m["merges"] != nil:
			typ = "BPE"
		case m["continuing_subword_prefix"] != nil:
			typ = "WordPiece"
		}
	}
	if byteLevel && typ != "BPE" {
		return nil, fmt.Errorf("a ByteLevel pre-tokenizer with model %q is not supported", typ)
	}
	switch typ {
	case "BPE":
		var vocab map[string]int32
		var unk, prefix, suffix string
		var fuse, fallback, ignore bool
		if err := fields(m, "vocab", &vocab, "unk_token", &unk, "continuing_subword_prefix", &prefix,
			"end_of_word_suffix", &suffix, "fuse_unk", &fuse, "byte_fallback", &fallback, "ignore_merges", &ignore); err != nil {
			return nil, err
		}
		merges, err := parseMerges(m["merges"])
		if err != nil {
			return nil, err
		}
		if err := checkVocab(vocab); err != nil {
			return nil, err
		}
		b, err := newBPE(vocab, merges, byteLevel, prefix)
		if err != nil {
			return nil, err
		}
		b.fuseUnk, b.byteFallback, b.suffix = fuse, fallback, suffix
		b.setIgnoreMerges(ignore)
		if unk != "" {
			if id, ok := vocab[unk]; ok {
				b.unk = id
			}
		}
		return b, nil
	case "WordPiece":
		w := &wordPiece{unk: -1, prefix: "##", maxChars: 100}
		var vocab map[string]int32
		unk := "[UNK]"
		if err := fields(m, "vocab", &vocab, "unk_token", &unk, "continuing_subword_prefix", &w.prefix,
			"max_input_chars_per_word", &w.maxChars); err != nil {
			return nil, err
		}
		if err := checkVocab(vocab); err != nil {
			return nil, err
		}
		w.vocabTable = newVocabTable(vocab)
		id, ok := vocab[unk]
		if !ok {
			return nil, fmt.Errorf("WordPiece: unk_token %q is not in the vocabulary", unk)
		}
		w.unk = id
		return w, nil
	case "WordLevel":
		var vocab map[string]int32
		var unk string
		if err := fields(m, "vocab", &vocab, "unk_token", &unk); err != nil {
			return nil, err
		}
		if err := checkVocab(vocab); err != nil {
			return nil, err
		}
		w := &wordLevel{vocabTable: newVocabTable(vocab), unk: -1}
		if id, ok := vocab[unk]; ok {
			w.unk = id
		}
		return w, nil
	case "Unigram":
		var vocab [][2]json.RawMessage
		var unkID *int
		var fallback bool
		if err := fields(m, "vocab", &vocab, "unk_id", &unkID, "byte_fallback", &fallback); err != nil {
			return nil, err
		}
		if len(vocab) == 0 {
			return nil, fmt.Errorf("unigram: empty vocabulary")
		}
		pieces := make([]string, len(vocab))
		scores := make([]float64, len(vocab))
		for i, v := range vocab {
			if err := json.Unmarshal(v[0], &pieces[i]); err != nil {
				return nil, fmt.Errorf("unigram: vocab[%d]: %w", i, err)
			}
			if err := json.Unmarshal(v[1], &scores[i]); err != nil {
				return nil, fmt.Errorf("unigram: vocab[%d]: %w", i, err)
			}
		}
		unk := int32(-1)
		if unkID != nil {
			if *unkID < 0 || *unkID >= len(pieces) {
				return nil, fmt.Errorf("unigram: unk_id %d out of range", *unkID)
			}
			unk = int32(*unkID)
		}
		return newUnigram(pieces, scores, unk, fallback), nil
	}
	return nil, fmt.Errorf("model type %q is not supported", typ)
}

func checkVocab(v map[string]int32) error {
	if len(v) == 0 {
		return fmt.Errorf("empty vocabulary")
	}
	for s, id := range v {
		if id < 0 || int(id) > 16*len(v)+1<<20 {
			return fmt.Errorf("vocabulary: token %q has id %d out of range", s, id)
		}
	}
	return nil
}

// wordLevel maps whole words to ids.
type wordLevel struct {
	vocabTable
	unk int32
}

func (w *wordLevel) tokenize(word string, dst []tok) []tok {
	id, ok := w.ids[word]
	if !ok {
		if w.unk < 0 {
			return dst
		}
		id = w.unk
	}
	return append(dst, tok{id, 0, int32(len(word))})
}

func parsePost(raw json.RawMessage, t *Tokenizer) (postProcessor, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, m, err := component(raw)
	if err != nil {
		return nil, err
	}
	pairField := func(key string) (int32, string, error) {
		var p [2]json.RawMessage
		if err := field(m, key, &p); err != nil {
			return 0, "", err
		}
		var s string
		var id int32
		if err := json.Unmarshal(p[0], &s); err != nil {
			return 0, "", fmt.Errorf("%s: %w", key, err)
		}
		if err := json.Unmarshal(p[1], &id); err != nil {
			return 0, "", fmt.Errorf("%s: %w", key, err)
		}
		return id, s, nil
	}
	switch typ {
	case "ByteLevel":
		b := byteLevelPost{addPrefixSpace: true}
		if err := fields(m, "trim_offsets", &b.trimOffsets, "add_prefix_space", &b.addPrefixSpace); err != nil {
			return nil, err
		}
		return b, nil
	case "TemplateProcessing":
		type item struct {
			SpecialToken *struct {
				ID     string `json:"id"`
				TypeID int32  `json:"type_id"`
			} `json:"SpecialToken"`
			Sequence *struct {
				ID     string `json:"id"`
				TypeID int32  `json:"type_id"`
			} `json:"Sequence"`
		}
		var tp struct {
			Single   []item `json:"single"`
			Pair     []item `json:"pair"`
			Specials map[string]struct {
				IDs    []int32  `json:"ids"`
				Tokens []string `json:"tokens"`
			} `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &tp); err != nil {
			return nil, err
		}
		p := &templatePost{specials: map[string]specialGroup{}}
		for name, g := range tp.Specials {
			if len(g.IDs) != len(g.Tokens) {
				return nil, fmt.Errorf("special_tokens %q: %d ids but %d tokens", name, len(g.IDs), len(g.Tokens))
			}
			p.specials[name] = specialGroup{g.IDs, g.Tokens}
		}
		convert := func(field string, items []item) ([]templatePiece, error) {
			var out []templatePiece
			for i, s := range items {
				switch {
				case s.SpecialToken != nil:
					if _, ok := p.specials[s.SpecialToken.ID]; !ok {
						return nil, fmt.Errorf("%s[%d]: special token %q is not in special_tokens", field, i, s.SpecialToken.ID)
					}
					out = append(out, templatePiece{special: s.SpecialToken.ID, typeID: s.SpecialToken.TypeID})
				case s.Sequence != nil:
					seq := 0
					switch s.Sequence.ID {
					case "A":
					case "B":
						seq = 1
					default:
						return nil, fmt.Errorf("%s[%d]: sequence %q: want A or B", field, i, s.Sequence.ID)
					}
					out = append(out, templatePiece{seq: seq, typeID: s.Sequence.TypeID})
				default:
					return nil, fmt.Errorf("%s[%d]: want SpecialToken or Sequence", field, i)
				}
			}
			return out, nil
		}
		var err error
		if p.single, err = convert("single", tp.Single); err != nil {
			return nil, err
		}
		if p.pair, err = convert("pair", tp.Pair); err != nil {
			return nil, err
		}
		if tp.Pair == nil { // HF's default pair template: $A:0 $B:1
			p.pair = []templatePiece{{seq: 0}, {seq: 1, typeID: 1}}
		}
		return p, nil
	case "BertProcessing", "RobertaProcessing":
		w := &wrapPost{}
		var err error
		if w.sep, w.sepTok, err = pairField("sep"); err != nil {
			return nil, err
		}
		if w.cls, w.clsTok, err = pairField("cls"); err != nil {
			return nil, err
		}
		if typ == "RobertaProcessing" {
			w.roberta, w.trimOffsets, w.addPrefixSpace = true, true, true
			if err := fields(m, "trim_offsets", &w.trimOffsets, "add_prefix_space", &w.addPrefixSpace); err != nil {
				return nil, err
			}
		}
		return w, nil
	case "Sequence":
		seq, err := parseSequence(m, "processors", func(r json.RawMessage) (postProcessor, error) { return parsePost(r, t) })
		if err != nil {
			return nil, err
		}
		return postSeq(seq), nil
	}
	return nil, fmt.Errorf("post-processor type %q is not supported", typ)
}

func parseDecoder(raw json.RawMessage) (decoder, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, m, err := component(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "ByteLevel":
		return byteLevelDec{}, nil
	case "Metaspace":
		d := metaspaceDec{replacement: "▁"}
		if err := field(m, "replacement", &d.replacement); err != nil {
			return nil, err
		}
		scheme, err := prependScheme(m)
		if err != nil {
			return nil, err
		}
		d.prepend = scheme != "never"
		return d, nil
	case "WordPiece":
		d := wordPieceDec{prefix: "##", cleanup: true}
		if err := fields(m, "prefix", &d.prefix, "cleanup", &d.cleanup); err != nil {
			return nil, err
		}
		return d, nil
	case "ByteFallback":
		return byteFallbackDec{}, nil
	case "Fuse":
		return fuseDec{}, nil
	case "Strip":
		var d stripDec
		if err := fields(m, "content", &d.content, "start", &d.start, "stop", &d.stop); err != nil {
			return nil, err
		}
		return d, nil
	case "Replace":
		pat, content, err := parseReplace(m)
		if err != nil {
			return nil, err
		}
		return replaceDec{pat, content}, nil
	case "BPEDecoder":
		d := bpeSuffixDec{suffix: "</w>"}
		if err := field(m, "suffix", &d.suffix); err != nil {
			return nil, err
		}
		return d, nil
	case "Sequence":
		seq, err := parseSequence(m, "decoders", parseDecoder)
		if err != nil {
			return nil, err
		}
		return decoderSeq(seq), nil
	}
	return nil, fmt.Errorf("decoder type %q is not supported", typ)
}

func parseTruncPad(trunc, pad json.RawMessage, t *Tokenizer) error {
	if !isNull(trunc) {
		var tr struct {
			MaxLength int    `json:"max_length"`
			Direction string `json:"direction"`
		}
		if err := json.Unmarshal(trunc, &tr); err != nil {
			return fmt.Errorf("truncation: %w", err)
		}
		t.truncation = &Truncation{MaxLength: tr.MaxLength, Left: tr.Direction == "Left"}
	}
	if !isNull(pad) {
		var p struct {
			Strategy  json.RawMessage `json:"strategy"`
			Direction string          `json:"direction"`
			Multiple  *int            `json:"pad_to_multiple_of"`
			PadID     int32           `json:"pad_id"`
			PadTypeID int32           `json:"pad_type_id"`
			PadToken  string          `json:"pad_token"`
		}
		if err := json.Unmarshal(pad, &p); err != nil {
			return fmt.Errorf("padding: %w", err)
		}
		pp := &Padding{Left: p.Direction == "Left", PadID: p.PadID, PadToken: p.PadToken, PadType: p.PadTypeID}
		if p.Multiple != nil {
			pp.Multiple = *p.Multiple
		}
		var fixed struct {
			Fixed int `json:"Fixed"`
		}
		if json.Unmarshal(p.Strategy, &fixed) == nil {
			pp.Length = fixed.Fixed
		}
		t.padding = pp
	}
	return nil
}
