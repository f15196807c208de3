package jinja

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func finite(v Value) bool {
	switch x := v.(type) {
	case float64:
		return !math.IsInf(x, 0) && !math.IsNaN(x)
	case *List:
		for _, it := range x.Items {
			if !finite(it) {
				return false
			}
		}
	case *Dict:
		for _, it := range x.Values() {
			if !finite(it) {
				return false
			}
		}
	}
	return true
}

var fuzzVars = map[string]any{
	"messages": []any{
		map[string]any{"role": "system", "content": "sys"},
		map[string]any{"role": "user", "content": "hi <b> é"},
		map[string]any{"role": "assistant", "content": "<think>\nx\n</think>\n\nok", "tool_calls": []any{
			map[string]any{"type": "function", "function": map[string]any{"name": "f", "arguments": map[string]any{"a": 1, "b": []any{1.5, nil, true}}}}}},
		map[string]any{"role": "tool", "content": []any{map[string]any{"type": "text", "text": "r"}}},
	},
	"tools":                 []any{map[string]any{"type": "function", "function": map[string]any{"name": "f"}}},
	"add_generation_prompt": true,
	"bos_token":             "<s>",
	"eos_token":             "</s>",
	"n":                     int64(3),
	"s":                     "  text  ",
}

// FuzzRender parses and renders arbitrary templates: whatever the input,
// the result is output or a *Error, never a panic or a hang (small limits
// bound the work). Seeds in testdata/fuzz/FuzzRender are real chat
// templates and feature snippets.
func FuzzRender(f *testing.F) {
	f.Add("{% for m in messages %}{{ m.role }}: {{ m.content|trim }}\n{% endfor %}")
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse("fuzz", src, Options{TrimBlocks: true, LStripBlocks: true})
		var e *Error
		if err != nil {
			if !errors.As(err, &e) {
				t.Fatalf("Parse error is %T, not *Error: %v", err, err)
			}
			return
		}
		env := &Env{
			MaxSteps:  20000,
			MaxOutput: 1 << 16,
			Globals: map[string]Value{"raise_exception": Func(func(args []Value, _ []Kwarg) (Value, error) {
				return nil, errors.New("raised")
			})},
		}
		if _, err := tmpl.Render(env, fuzzVars); err != nil && !errors.As(err, &e) {
			t.Fatalf("Render error is %T, not *Error: %v", err, err)
		}
	})
}

// FuzzFromJSON checks that FromJSON accepts exactly what encoding/json
// accepts, and that what decodes re-encodes to JSON that decodes to an equal value.
func FuzzFromJSON(f *testing.F) {
	f.Add(`{"b": [1, 2.5, null, true, "x"], "a": {}}`)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := FromJSON([]byte(s))
		if valid := json.Valid([]byte(s)); valid != (err == nil) {
			t.Fatalf("encoding/json says valid=%v; FromJSON error: %v", valid, err)
		}
		if err != nil {
			return
		}
		if !finite(v) {
			return // 1e999 decodes to inf, which Python (and we) write as Infinity
		}
		out, err := JSON(v, JSONOptions{})
		if err != nil {
			t.Fatalf("decoded JSON does not encode: %v", err)
		}
		v2, err := FromJSON([]byte(out))
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", out, err)
		}
		if !pyEqual(v, v2) {
			t.Fatalf("round trip changed %q into %q", s, out)
		}
	})
}
