package tokenizer

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func splits(m matcher, s string) [][2]int {
	var out [][2]int
	m.findAll(s, func(a, b int) { out = append(out, [2]int{a, b}) })
	return out
}

// TestLookaheadMatcherAgreesWithScanners checks the general matcher for
// `HEAD|\s+(?!\S)|\s+` against the hand-written scanners of the GPT-2,
// Llama 3 and Qwen2 patterns, on the corpus and on random strings built
// from the characters where the patterns disagree most (spaces, newlines,
// letters, digits, apostrophes, punctuation, non-ASCII white space).
func TestLookaheadMatcherAgreesWithScanners(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{" ", "  ", "\n", "\r\n", "\t", "a", "Z", "é", "日", "1", "٣", "'", "'s", "'LL", "ſ", ".", "!?", "\u00a0", "\u3000", "😀", "_", "-"}
	var texts []string
	corpus := benchCorpus(t)
	for k := 0; k < 8; k++ {
		a := len(corpus) * k / 8
		texts = append(texts, strings.ToValidUTF8(corpus[a:a+4096], ""))
	}
	for range 400 {
		var b strings.Builder
		for range 1 + rng.IntN(20) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	for _, src := range []string{gpt2Regex, llama3Regex, qwen2Regex} {
		head, _ := strings.CutSuffix(src, `|\s+(?!\S)|\s+`)
		goHead, err := translateRegex(head)
		if err != nil {
			t.Fatal(err)
		}
		general := lookaheadMatcher{regexp.MustCompile(goHead)}
		for _, s := range texts {
			if got, want := splits(general, s), splits(knownPatterns[src], s); !reflect.DeepEqual(got, want) {
				t.Fatalf("pattern %.30q on %q:\ngeneral %v\nscanner %v", src, s, got, want)
			}
		}
	}
}

// TestScannerSplits pins a few splits HF gives for the Llama 3 and GPT-2
// patterns (from the fixtures' tokens).
func TestScannerSplits(t *testing.T) {
	for _, c := range []struct {
		k    scanKind
		s    string
		want []string
	}{
		{scanLlama3, "Hello  world", []string{"Hello", " ", " world"}},
		{scanLlama3, "I'M here\n\n  x", []string{"I", "'M", " here", "\n\n", " ", " x"}},
		{scanLlama3, "12345 ab", []string{"123", "45", " ab"}},
		{scanQwen2, "123", []string{"1", "2", "3"}},
		{scanLlama3, "a.\n\nb", []string{"a", ".\n\n", "b"}},
		{scanGPT2, "I'M  there's", []string{"I", "'", "M", " ", " there", "'s"}},
		{scanGPT2, "x   ", []string{"x", "   "}},
	} {
		var got []string
		c.k.findAll(c.s, func(a, b int) { got = append(got, c.s[a:b]) })
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %q, want %q", c.s, got, c.want)
		}
	}
}

// TestDeepSeekV3Pattern checks the DeepSeek-V3 word pattern (a lookahead
// pattern handled by lookaheadMatcher) on hand-worked strings.
func TestDeepSeekV3Pattern(t *testing.T) {
	pre, _, err := ggufPre("deepseek-v3")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	pre.split(piece{text: "Hello, world!\n\n  (x)12345 東京", added: -1}, func(p piece) { got = append(got, p.text) })
	// " (" not "(x": at the space, ` ?[\p{P}\p{S}]+` is the first
	// alternative that matches; the CJK split takes 東京 from its space.
	want := []string{"Hello", ",", " world", "!\n\n", " ", " (", "x", ")", "123", "45", " ", "東京"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
