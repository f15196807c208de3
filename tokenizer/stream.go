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
	ids         []int32
	prefix      int    // ids[prefix:] are decoded together for context
	read        int    // ids[:read] have been emitted
	prefixText  string // Decode(ids[prefix:read])
}

// NewStreamDecoder returns a decoder for a stream of ids. With skipSpecial,
// special tokens produce no text.
func (t *Tokenizer) NewStreamDecoder(skipSpecial bool) *StreamDecoder {
	return &StreamDecoder{t: t, skipSpecial: skipSpecial}
}

// Add takes the next id and returns the text that became final, possibly "".
func (d *StreamDecoder) Add(id int32) (string, error) {
	if _, ok := d.t.IDToToken(id); !ok {
		return "", d.errRange(id)
	}
	d.ids = append(d.ids, id)
	text, err := d.t.Decode(d.ids[d.prefix:], d.skipSpecial)
	if err != nil {
		return "", err
	}
	if len(text) <= len(d.prefixText) || strings.HasSuffix(text, "\uFFFD") || !strings.HasPrefix(text, d.prefixText) {
		return "", nil
	}
	out := text[len(d.prefixText):]
	// Keep a little context (decoders such as Metaspace treat the first
	// token differently), but not the whole history.
	d.read = len(d.ids)
	d.prefix = d.read - 1
	d.prefixText, err = d.t.Decode(d.ids[d.prefix:d.read], d.skipSpecial)
	if err != nil {
		return "", err
	}
	if d.prefix > 0 {
		d.ids = append(d.ids[:0], d.ids[d.prefix:]...)
		d.read -= d.prefix
		d.prefix = 0
	}
	return out, nil
}

// Flush returns whatever text is still held back (an incomplete character
// becomes U+FFFD) and resets the decoder.
func (d *StreamDecoder) Flush() (string, error) {
	var out string
	if d.read < len(d.ids) {
		text, err := d.t.Decode(d.ids[d.prefix:], d.skipSpecial)
		if err != nil {
			return "", err
		}
		out = strings.TrimPrefix(text, d.prefixText)
	}
	d.ids, d.prefix, d.read, d.prefixText = d.ids[:0], 0, 0, ""
	return out, nil
}

func (d *StreamDecoder) errRange(id int32) error {
	_, err := d.t.Decode([]int32{id}, false)
	return err
}
