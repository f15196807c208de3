// Package tokenizer turns text into token ids and back, exactly as Hugging
// Face's tokenizers library does, for the vocabularies of HF tokenizer.json
// files and of GGUF files.
//
// A Tokenizer runs HF's pipeline: added (special) tokens are cut out of the
// raw text, the rest is normalized, pre-tokenized into words, split into
// tokens by the model (BPE, WordPiece or Unigram) and wrapped by the
// post-processor (BOS/EOS and the like). Decoding runs the decoder chain.
// A Tokenizer is safe for concurrent use.
package tokenizer

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalidUTF8 is returned for input text that is not valid UTF-8.
var ErrInvalidUTF8 = errors.New("tokenizer: input is not valid UTF-8")

// Tokenizer encodes and decodes text for one vocabulary.
type Tokenizer struct {
	model      model
	normalizer normalizer    // nil: none
	pre        preTokenizer  // nil: the whole piece is one word
	post       postProcessor // nil: nothing added
	dec        decoder       // nil: tokens joined with spaces

	added     []AddedToken
	addedByID map[int32]int
	addedIDs  map[string]int32
	rawAdded  *addedMatcher // matched in raw text
	normAdded *addedMatcher // matched in normalized text

	specials Specials

	truncation *Truncation
	padding    *Padding
}

// Specials names the ids of a vocabulary's special tokens; -1 means none.
type Specials struct {
	BOS, EOS, PAD, UNK, SEP, CLS, MASK int32
	// EOT lists extra end-of-generation ids (e.g. <|eot_id|>, <|im_end|>).
	EOT []int32
}

func noSpecials() Specials {
	return Specials{BOS: -1, EOS: -1, PAD: -1, UNK: -1, SEP: -1, CLS: -1, MASK: -1}
}

// Truncation limits encodings to MaxLength tokens (special tokens
// included), cutting from the end, or from the start when Left is set.
type Truncation struct {
	MaxLength int
	Left      bool
}

// Padding pads encodings with PadID up to Length tokens (or, when Length
// is 0, up to a multiple of Multiple), at the end or, when Left is set, at
// the start.
type Padding struct {
	Length   int
	Multiple int
	Left     bool
	PadID    int32
	PadToken string
	PadType  int32
}

func (t *Tokenizer) finish() {
	t.addedByID = make(map[int32]int, len(t.added))
	t.addedIDs = make(map[string]int32, len(t.added))
	var raw, norm []AddedToken
	for i, a := range t.added {
		t.addedByID[a.ID] = i
		t.addedIDs[a.Content] = a.ID
		if a.Normalized && t.normalizer != nil {
			norm = append(norm, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.rawAdded = newAddedMatcher(raw)
	t.normAdded = newAddedMatcher(norm)
}

// VocabSize is one more than the largest token id.
func (t *Tokenizer) VocabSize() int {
	n := t.model.size()
	for _, a := range t.added {
		if int(a.ID)+1 > n {
			n = int(a.ID) + 1
		}
	}
	return n
}

// TokenToID returns the id of a token string (as the vocabulary spells it,
// e.g. "Ġworld" for byte-level vocabularies).
func (t *Tokenizer) TokenToID(token string) (int32, bool) {
	if id, ok := t.addedIDs[token]; ok {
		return id, true
	}
	return t.model.tokenID(token)
}

// IDToToken returns the token string of an id.
func (t *Tokenizer) IDToToken(id int32) (string, bool) {
	if i, ok := t.addedByID[id]; ok {
		return t.added[i].Content, true
	}
	return t.model.idToken(id)
}

// IsSpecial reports whether id is a special token (skipped by Decode with
// skipSpecial).
func (t *Tokenizer) IsSpecial(id int32) bool {
	i, ok := t.addedByID[id]
	return ok && t.added[i].Special
}

// AddedTokens lists the tokens matched in raw text before the model runs.
func (t *Tokenizer) AddedTokens() []AddedToken {
	return append([]AddedToken(nil), t.added...)
}

// Specials returns the special token ids.
func (t *Tokenizer) Specials() Specials { return t.specials }

// BOS returns the beginning-of-sequence id, if the vocabulary has one.
func (t *Tokenizer) BOS() (int32, bool) { return t.specials.BOS, t.specials.BOS >= 0 }

// EOS returns the end-of-sequence id, if the vocabulary has one.
func (t *Tokenizer) EOS() (int32, bool) { return t.specials.EOS, t.specials.EOS >= 0 }

// PAD returns the padding id, if the vocabulary has one.
func (t *Tokenizer) PAD() (int32, bool) { return t.specials.PAD, t.specials.PAD >= 0 }

// UNK returns the unknown-token id, if the vocabulary has one.
func (t *Tokenizer) UNK() (int32, bool) { return t.specials.UNK, t.specials.UNK >= 0 }

// IsEOG reports whether id ends generation (EOS or one of the EOT ids).
func (t *Tokenizer) IsEOG(id int32) bool {
	if id >= 0 && id == t.specials.EOS {
		return true
	}
	for _, e := range t.specials.EOT {
		if e == id {
			return true
		}
	}
	return false
}

// SetTruncation sets (or, with nil, clears) truncation for EncodeFull.
func (t *Tokenizer) SetTruncation(tr *Truncation) { t.truncation = tr }

// SetPadding sets (or, with nil, clears) padding for EncodeFull.
func (t *Tokenizer) SetPadding(p *Padding) { t.padding = p }

// words runs the pipeline up to the model and calls fn with every word and
// its tokens (positions relative to the word).
func (t *Tokenizer) words(text string, plain bool, fn func(w piece, toks []tok)) {
	var buf []tok
	one := make([]tok, 1)
	emitAdded := func(q piece) {
		one[0] = tok{q.added, 0, int32(len(q.text))}
		fn(q, one)
	}
	word := func(w piece) {
		buf = t.model.tokenize(w.text, buf[:0])
		if len(buf) > 0 {
			fn(w, buf)
		}
	}
	afterNorm := func(r piece) {
		if r.added >= 0 {
			emitAdded(r)
			return
		}
		if r.text == "" {
			return
		}
		if t.pre == nil {
			word(r)
			return
		}
		t.pre.split(r, word)
	}
	t.rawAdded.split(piece{text: text, added: -1, plain: plain}, func(q piece) {
		if q.added >= 0 {
			emitAdded(q)
			return
		}
		if q.text == "" {
			return
		}
		if t.normalizer != nil {
			q = t.normalizer.normalize(q)
		}
		if len(t.normAdded.tokens) > 0 {
			t.normAdded.split(q, afterNorm)
			return
		}
		afterNorm(q)
	})
}

// Encode returns the token ids of text. With addSpecial the
// post-processor's special tokens (BOS, EOS, …) are added. Special tokens
// written in the text are always recognized. Truncation and padding apply
// when set.
func (t *Tokenizer) Encode(text string, addSpecial bool) ([]int32, error) {
	if !utf8.ValidString(text) {
		return nil, ErrInvalidUTF8
	}
	if t.truncation != nil || t.padding != nil {
		e, err := t.EncodeFull(text, addSpecial)
		if err != nil {
			return nil, err
		}
		return e.IDs, nil
	}
	ids := make([]int32, 0, len(text)/3+4)
	t.words(text, true, func(_ piece, toks []tok) {
		for _, k := range toks {
			ids = append(ids, k.id)
		}
	})
	if addSpecial && t.post != nil && t.post.added(false) > 0 {
		e := &Encoding{IDs: ids, Tokens: make([]string, len(ids)), TypeIDs: make([]int32, len(ids)),
			Offsets: make([][2]int, len(ids)), SequenceIDs: make([]int8, len(ids)),
			SpecialTokensMask: make([]int8, len(ids)), AttentionMask: make([]int8, len(ids))}
		ids = runPost(t.post, []*Encoding{e}, true).IDs
	}
	return ids, nil
}

// encodeSeq runs the pipeline up to (not including) the post-processor.
func (t *Tokenizer) encodeSeq(text string, seq int8) (*Encoding, error) {
	if !utf8.ValidString(text) {
		return nil, ErrInvalidUTF8
	}
	e := &Encoding{}
	t.words(text, false, func(w piece, toks []tok) {
		for _, k := range toks {
			sp := w.origSpan(int(k.start), int(k.end))
			s, _ := t.IDToToken(k.id)
			if w.added >= 0 {
				s = w.text // with the white space lstrip/rstrip took, as HF reports it
			}
			e.push(k.id, s, int32(seq), [2]int{sp.start, sp.end}, seq) // the second text has type id 1, as in HF
		}
	})
	return e, nil
}

// EncodeFull encodes text with tokens, byte offsets and masks, applying
// truncation and padding when set.
func (t *Tokenizer) EncodeFull(text string, addSpecial bool) (*Encoding, error) {
	e, err := t.encodeSeq(text, 0)
	if err != nil {
		return nil, err
	}
	return t.finishEncoding([]*Encoding{e}, addSpecial), nil
}

// EncodePair encodes two texts as one input (a query and a passage for a
// cross-encoder, say) with the post-processor's pair template: for BERT
// [CLS] a [SEP] b [SEP] with type ids 0 then 1. Offsets of b's tokens are
// offsets into b (SequenceIDs tells the two apart). Truncation, when set,
// shortens the longer text first, as HF's longest_first strategy does.
func (t *Tokenizer) EncodePair(a, b string, addSpecial bool) (*Encoding, error) {
	ea, err := t.encodeSeq(a, 0)
	if err != nil {
		return nil, fmt.Errorf("first text: %w", err)
	}
	eb, err := t.encodeSeq(b, 1)
	if err != nil {
		return nil, fmt.Errorf("second text: %w", err)
	}
	return t.finishEncoding([]*Encoding{ea, eb}, addSpecial), nil
}

// finishEncoding truncates, post-processes and pads one or two sequences.
func (t *Tokenizer) finishEncoding(encs []*Encoding, addSpecial bool) *Encoding {
	pair := len(encs) == 2
	if tr := t.truncation; tr != nil && tr.MaxLength > 0 {
		limit := tr.MaxLength
		if addSpecial && t.post != nil {
			limit -= t.post.added(pair)
		}
		limit = max(limit, 0)
		if !pair {
			encs[0].truncate(limit, tr.Left)
		} else if n1, n2 := encs[0].Len(), encs[1].Len(); n1+n2 > limit {
			// HF's longest_first: with n1 the shorter, keep n1 if the
			// longer still gets at least as much, else split evenly.
			swap := n1 > n2
			if swap {
				n1, n2 = n2, n1
			}
			if n1 > limit {
				n2 = n1
			} else {
				n2 = max(n1, limit-n1)
			}
			if n1+n2 > limit {
				n1 = limit / 2
				n2 = n1 + limit%2
			}
			if swap {
				n1, n2 = n2, n1
			}
			encs[0].truncate(n1, tr.Left)
			encs[1].truncate(n2, tr.Left)
		}
	}
	e := runPost(t.post, encs, addSpecial)
	if p := t.padding; p != nil {
		target := p.Length
		if target == 0 && p.Multiple > 0 {
			target = (e.Len() + p.Multiple - 1) / p.Multiple * p.Multiple
		}
		if n := target - e.Len(); n > 0 {
			pad := &Encoding{}
			for range n {
				pad.push(p.PadID, p.PadToken, p.PadType, [2]int{}, -1)
				pad.AttentionMask[len(pad.AttentionMask)-1] = 0
			}
			if p.Left {
				pad.appendFrom(e, 0)
				copy(pad.TypeIDs[n:], e.TypeIDs)
				e = pad
			} else {
				tail := e.Len()
				e.appendFrom(pad, 0)
				copy(e.TypeIDs[tail:], pad.TypeIDs)
			}
		}
	}
	return e
}

// Decode turns ids back into text. With skipSpecial, special tokens are
// left out. An id outside the vocabulary is an error.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for i, id := range ids {
		if k, ok := t.addedByID[id]; ok {
			if skipSpecial && t.added[k].Special {
				continue
			}
			toks = append(toks, t.added[k].Content)
			continue
		}
		s, ok := t.model.idToken(id)
		if !ok {
			return "", fmt.Errorf("tokenizer: id %d at position %d is out of range (vocabulary size %d)", id, i, t.VocabSize())
		}
		toks = append(toks, s)
	}
	if t.dec == nil {
		return strings.Join(toks, " "), nil
	}
	return strings.Join(t.dec.decode(toks), ""), nil
}
