package tokenizer

import "unicode"

// Encoding is the full result of encoding one text (or a pair of texts).
type Encoding struct {
	IDs     []int32
	Tokens  []string
	TypeIDs []int32
	// Offsets are [start, end) byte offsets into the text the token came
	// from (for a pair, the first or the second text: see SequenceIDs);
	// special tokens added by the post-processor have [0, 0).
	Offsets [][2]int
	// SequenceIDs is 0 for tokens of the first text, 1 for tokens of the
	// second, -1 for special tokens added by the post-processor.
	SequenceIDs []int8
	// SpecialTokensMask is 1 for tokens added by the post-processor.
	SpecialTokensMask []int8
	// AttentionMask is 0 for padding, 1 otherwise.
	AttentionMask []int8
}

// Len is the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

func (e *Encoding) push(id int32, tokStr string, typeID int32, off [2]int, seq int8) {
	e.IDs = append(e.IDs, id)
	e.Tokens = append(e.Tokens, tokStr)
	e.TypeIDs = append(e.TypeIDs, typeID)
	e.Offsets = append(e.Offsets, off)
	e.SequenceIDs = append(e.SequenceIDs, seq)
	var sp int8
	if seq < 0 {
		sp = 1
	}
	e.SpecialTokensMask = append(e.SpecialTokensMask, sp)
	e.AttentionMask = append(e.AttentionMask, 1)
}

// appendFrom copies all tokens of src, giving them type id typeID.
func (e *Encoding) appendFrom(src *Encoding, typeID int32) {
	for i := range src.IDs {
		e.IDs = append(e.IDs, src.IDs[i])
		e.Tokens = append(e.Tokens, src.Tokens[i])
		e.TypeIDs = append(e.TypeIDs, typeID)
		e.Offsets = append(e.Offsets, src.Offsets[i])
		e.SequenceIDs = append(e.SequenceIDs, src.SequenceIDs[i])
		e.SpecialTokensMask = append(e.SpecialTokensMask, src.SpecialTokensMask[i])
		e.AttentionMask = append(e.AttentionMask, src.AttentionMask[i])
	}
}

func (e *Encoding) truncate(n int, left bool) {
	if e.Len() <= n {
		return
	}
	a, b := 0, n
	if left {
		a, b = e.Len()-n, e.Len()
	}
	e.IDs, e.Tokens, e.TypeIDs = e.IDs[a:b], e.Tokens[a:b], e.TypeIDs[a:b]
	e.Offsets, e.SequenceIDs = e.Offsets[a:b], e.SequenceIDs[a:b]
	e.SpecialTokensMask, e.AttentionMask = e.SpecialTokensMask[a:b], e.AttentionMask[a:b]
}

// A postProcessor adds the special tokens a model expects around one
// sequence or a pair, and may adjust offsets. It receives one encoding per
// sequence and returns the encodings to concatenate.
type postProcessor interface {
	process(encs []*Encoding, addSpecial bool) []*Encoding
	// added is how many tokens process adds to one sequence or a pair.
	added(pair bool) int
}

// runPost applies p (which may be nil) and concatenates the result.
func runPost(p postProcessor, encs []*Encoding, addSpecial bool) *Encoding {
	if p != nil {
		encs = p.process(encs, addSpecial)
	}
	if len(encs) == 1 {
		return encs[0]
	}
	out := &Encoding{}
	for _, e := range encs {
		out.appendFrom(e, 0)
		copy(out.TypeIDs[out.Len()-e.Len():], e.TypeIDs)
	}
	return out
}

// templatePiece is one item of a TemplateProcessing template: a sequence
// (special == "", seq 0 for $A, 1 for $B) or a special token group.
type templatePiece struct {
	special string
	seq     int
	typeID  int32
}

type specialGroup struct {
	ids    []int32
	tokens []string
}

type templatePost struct {
	single, pair []templatePiece
	specials     map[string]specialGroup
}

func (t *templatePost) process(encs []*Encoding, addSpecial bool) []*Encoding {
	tmpl := t.single
	if len(encs) == 2 {
		tmpl = t.pair
	}
	out := &Encoding{}
	for _, p := range tmpl {
		if p.special == "" {
			if p.seq < len(encs) {
				out.appendFrom(encs[p.seq], p.typeID)
			}
			continue
		}
		if !addSpecial {
			continue
		}
		g := t.specials[p.special]
		for k, id := range g.ids {
			out.push(id, g.tokens[k], p.typeID, [2]int{}, -1)
		}
	}
	return []*Encoding{out}
}

func (t *templatePost) added(pair bool) int {
	tmpl := t.single
	if pair {
		tmpl = t.pair
	}
	n := 0
	for _, p := range tmpl {
		if p.special != "" {
			n += len(t.specials[p.special].ids)
		}
	}
	return n
}

// wrapPost is BERT's [CLS] A [SEP] (B [SEP]) and RoBERTa's
// <s> A </s> (</s> B </s>).
type wrapPost struct {
	cls, sep       int32
	clsTok, sepTok string
	roberta        bool
	trimOffsets    bool // RoBERTa: drop white space from offsets
	addPrefixSpace bool
}

func (w *wrapPost) process(encs []*Encoding, addSpecial bool) []*Encoding {
	if w.trimOffsets {
		for _, e := range encs {
			trimByteLevelOffsets(e, w.addPrefixSpace)
		}
	}
	if !addSpecial {
		return encs
	}
	out := &Encoding{}
	out.push(w.cls, w.clsTok, 0, [2]int{}, -1)
	out.appendFrom(encs[0], 0)
	out.push(w.sep, w.sepTok, 0, [2]int{}, -1)
	if len(encs) == 2 {
		if w.roberta {
			out.push(w.sep, w.sepTok, 1, [2]int{}, -1)
		}
		out.appendFrom(encs[1], 1)
		out.push(w.sep, w.sepTok, 1, [2]int{}, -1)
	}
	return []*Encoding{out}
}

func (w *wrapPost) added(pair bool) int {
	switch {
	case !pair:
		return 2
	case w.roberta:
		return 4
	}
	return 3
}

// byteLevelPost only trims white space off offsets when asked.
type byteLevelPost struct{ trimOffsets, addPrefixSpace bool }

func (b byteLevelPost) process(encs []*Encoding, _ bool) []*Encoding {
	if b.trimOffsets {
		for _, e := range encs {
			trimByteLevelOffsets(e, b.addPrefixSpace)
		}
	}
	return encs
}

func (byteLevelPost) added(bool) int { return 0 }

// trimByteLevelOffsets moves offsets past the leading and trailing white
// space (Ġ) of byte-level tokens, as HF's trim_offsets does. With
// addPrefixSpace, the single space of the first token is kept.
func trimByteLevelOffsets(e *Encoding, addPrefixSpace bool) {
	isSpace := func(r rune) bool { return r == 'Ġ' || unicode.IsSpace(r) }
	for i, t := range e.Tokens {
		lead, trail := 0, 0
		for _, r := range t {
			if !isSpace(r) {
				break
			}
			lead++
		}
		rs := []rune(t)
		for k := len(rs) - 1; k >= 0 && isSpace(rs[k]); k-- {
			trail++
		}
		if lead == 0 && trail == 0 {
			continue
		}
		o := e.Offsets[i]
		if lead > 0 {
			if (i == 0 || o[0] == 0) && addPrefixSpace && lead == 1 {
				lead = 0
			}
			o[0] = min(o[0]+lead, o[1])
		}
		if trail > 0 && o[1] >= trail {
			o[1] = max(o[1]-trail, o[0])
		}
		e.Offsets[i] = o
	}
}

type postSeq []postProcessor

func (s postSeq) process(encs []*Encoding, addSpecial bool) []*Encoding {
	for _, p := range s {
		encs = p.process(encs, addSpecial)
	}
	return encs
}

func (s postSeq) added(pair bool) int {
	n := 0
	for _, p := range s {
		n += p.added(pair)
	}
	return n
}
