package tokenizer

import "strings"

// StreamDecoder turns ids arriving one at a time (as a model generates
// them) into text. It holds back text while it ends in an incomplete
// character (a byte-level or byte-fallback token can carry part of one),
// so every piece it returns is valid UTF-8, and the concatenation of all
// pieces plus Flush equals Decode of all the ids.
type StreamDecoder struct {
	t           *Tokenizer
	skipSpecial bool
	// ids holds the last emitted chunk of ids (context, so that decoders
	// that treat the first token specially see the same start every time)
	// followed by ids not emitted yet.
	ids        []int32
	prefixLen  int    // ids[:prefixLen] is the context
	prefixText string // Decode(ids[:prefixLen])
}

// NewStreamDecoder returns a decoder for a stream of ids. With skipSpecial,
// special tokens produce no text.
func (t *Tokenizer) NewStreamDecoder(skipSpecial bool) *StreamDecoder {
	return &StreamDecoder{t: t, skipSpecial: skipSpecial}
}

// Add takes the next id and returns the text that became final, possibly "".
func (d *StreamDecoder) Add(id int32) (string, error) {
	if _, ok := d.t.IDToToken(id); !ok {
		_, err := d.t.Decode([]int32{id}, false)
		return "", err
	}
	d.ids = append(d.ids, id)
	text, err := d.t.Decode(d.ids, d.skipSpecial)
	if err != nil {
		return "", err
	}
	if len(text) <= len(d.prefixText) || strings.HasSuffix(text, "\uFFFD") || !strings.HasPrefix(text, d.prefixText) {
		return "", nil
	}
	out := text[len(d.prefixText):]
	// The chunk just emitted becomes the context. It starts where the
	// previous chunk's complete characters ended, so byte tokens in it
	// never begin in the middle of a character.
	d.ids = append(d.ids[:0], d.ids[d.prefixLen:]...)
	d.prefixLen = len(d.ids)
	if d.prefixText, err = d.t.Decode(d.ids, d.skipSpecial); err != nil {
		return "", err
	}
	return out, nil
}

// Flush returns whatever text is still held back (an incomplete character
// becomes U+FFFD) and resets the decoder.
func (d *StreamDecoder) Flush() (string, error) {
	var out string
	if d.prefixLen < len(d.ids) {
		text, err := d.t.Decode(d.ids, d.skipSpecial)
		if err != nil {
			return "", err
		}
		out = strings.TrimPrefix(text, d.prefixText)
	}
	d.ids, d.prefixLen, d.prefixText = d.ids[:0], 0, ""
	return out, nil
}
