package jinja

import (
	"strings"
	"unicode"
)

// Python's str.upper and str.lower apply Unicode's full case mappings,
// where one character may become several (ß → SS). These are the
// unconditional multi-character mappings of SpecialCasing.txt outside
// Greek; other characters use the simple mapping. (Python's context-
// dependent final-sigma rule is not applied.)
var upperSpecial = map[rune]string{
	'ß': "SS", 'ŉ': "ʼN", 'ǰ': "J̌", 'ΐ': "Ϊ́", 'ΰ': "Ϋ́", 'և': "ԵՒ",
	'ẖ': "H̱", 'ẗ': "T̈", 'ẘ': "W̊", 'ẙ': "Y̊", 'ẚ': "Aʾ",
	'ﬀ': "FF", 'ﬁ': "FI", 'ﬂ': "FL", 'ﬃ': "FFI", 'ﬄ': "FFL", 'ﬅ': "ST", 'ﬆ': "ST",
	'ﬓ': "ՄՆ", 'ﬔ': "ՄԵ", 'ﬕ': "ՄԻ", 'ﬖ': "ՎՆ", 'ﬗ': "ՄԽ",
}

var lowerSpecial = map[rune]string{'İ': "i̇"}

func caseMap(s string, special map[rune]string, simple func(rune) rune) string {
	if isASCII(s) {
		if simple('a') == 'A' {
			return strings.ToUpper(s)
		}
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if m, ok := special[r]; ok {
			b.WriteString(m)
		} else {
			b.WriteRune(simple(r))
		}
	}
	return b.String()
}

func pyUpper(s string) string { return caseMap(s, upperSpecial, unicode.ToUpper) }
func pyLower(s string) string { return caseMap(s, lowerSpecial, unicode.ToLower) }
