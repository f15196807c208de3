package tokenizer

import "unicode"

// Encoding is the full result of encoding one text.
type Encoding struct {
	IDs     []int32
	Tokens  []string
	TypeIDs []int32
	// Offsets are [start, end) byte offsets into the encoded text; special
	// tokens added by the post-processor have [0, 0).
	Offsets [][2]int
	// SpecialTokensMask is 1 for tokens added by the post-processor.
	SpecialTokensMask []int8
	// AttentionMask is 0 for padding, 1 otherwise.
	AttentionMask []int8
}

// Len is the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

func (e *Encoding) push(id int32, tokStr string, typeID int32, off [2]int, special bool) {
	e.IDs = append(e.IDs, id)
	e.Tokens = append(e.Tokens, tokStr)
	e.TypeIDs = append(e.TypeIDs, typeID)
	e.Offsets = append(e.Offsets, off)
	var sp int8
	if special {
		sp = 1
	}
	e.SpecialTokensMask = append(e.SpecialTokensMask, sp)
	e.AttentionMask = append(e.AttentionMask, 1)
}

// A postProcessor adds the special tokens a model expects around a
// sequence and may adjust offsets.
type postProcessor interface {
	// process returns the final encoding; addSpecial false means only
	// offset adjustments apply.
	process(e *Encoding, addSpecial bool) *Encoding
	// added is how many tokens process adds to one sequence.
	added() int
}

// templatePiece is one item of a TemplateProcessing template: either the
// sequence itself (special == "") or a special token group.
type templatePiece struct {
	special string
	typeID  int32
}

type specialGroup struct {
	ids    []int32
	tokens []string
}

type templatePost struct {
	single   []templatePiece
	specials map[string]specialGroup
}

func (t *templatePost) process(e *Encoding, addSpecial bool) *Encoding {
	if !addSpecial {
		return e
	}
	out := &Encoding{}
	for _, p := range t.single {
		if p.special == "" {
			for i := range e.IDs {
				out.push(e.IDs[i], e.Tokens[i], p.typeID, e.Offsets[i], e.SpecialTokensMask[i] != 0)
			}
			continue
		}
		g := t.specials[p.special]
		for k, id := range g.ids {
			out.push(id, g.tokens[k], p.typeID, [2]int{}, true)
		}
	}
	return out
}

func (t *templatePost) added() int {
	n := 0
	for _, p := range t.single {
		if p.special != "" {
			n += len(t.specials[p.special].ids)
		}
	}
	return n
}

// wrapPost is BERT's [CLS] A [SEP] and RoBERTa's <s> A </s>.
type wrapPost struct {
	cls, sep       int32
	clsTok, sepTok string
	trimOffsets    bool // RoBERTa: drop white space from offsets
	addPrefixSpace bool
}

func (w *wrapPost) process(e *Encoding, addSpecial bool) *Encoding {
	if w.trimOffsets {
		trimByteLevelOffsets(e, w.addPrefixSpace)
	}
	if !addSpecial {
		return e
	}
	out := &Encoding{}
	out.push(w.cls, w.clsTok, 0, [2]int{}, true)
	for i := range e.IDs {
		out.push(e.IDs[i], e.Tokens[i], 0, e.Offsets[i], e.SpecialTokensMask[i] != 0)
	}
	out.push(w.sep, w.sepTok, 0, [2]int{}, true)
	return out
}

func (w *wrapPost) added() int { return 2 }

// byteLevelPost only trims white space off offsets when asked.
type byteLevelPost struct{ trimOffsets, addPrefixSpace bool }

func (b byteLevelPost) process(e *Encoding, _ bool) *Encoding {
	if b.trimOffsets {
		trimByteLevelOffsets(e, b.addPrefixSpace)
	}
	return e
}

func (byteLevelPost) added() int { return 0 }

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

func (s postSeq) process(e *Encoding, addSpecial bool) *Encoding {
	for _, p := range s {
		e = p.process(e, addSpecial)
	}
	return e
}

func (s postSeq) added() int {
	n := 0
	for _, p := range s {
		n += p.added()
	}
	return n
}
