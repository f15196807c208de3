package tokenizer

import (
	"slices"
	"testing"
)

// TestSequenceSkipsNull: null elements of a Sequence are dropped, so a
// sequence of one real component and nulls encodes and decodes as that
// component alone.
func TestSequenceSkipsNull(t *testing.T) {
	const model = `"model": {"type": "WordLevel", "unk_token": "?", "vocab": {"?": 0, "ab": 1, "c": 2}}`
	alone, err := FromJSON([]byte(`{"normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "Whitespace"}, ` + model + `}`))
	if err != nil {
		t.Fatal(err)
	}
	seq, err := FromJSON([]byte(`{"normalizer": {"type": "Sequence", "normalizers": [null, {"type": "Lowercase"}, null]}, ` +
		`"pre_tokenizer": {"type": "Sequence", "pretokenizers": [null, {"type": "Whitespace"}]}, ` +
		`"decoder": {"type": "Sequence", "decoders": [null]}, ` + model + `}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"AB c", "ab  C x"} {
		want, err := alone.Encode(s, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := seq.Encode(s, false)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: sequence with nulls gives %v, the component alone %v", s, got, want)
		}
	}
}
