package jinja

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
)

func render(t *testing.T, src string, vars map[string]any) (string, error) {
	t.Helper()
	tmpl, err := Parse("t", src, Options{TrimBlocks: true, LStripBlocks: true})
	if err != nil {
		return "", err
	}
	return tmpl.Render(nil, vars)
}

func TestErrorLines(t *testing.T) {
	for _, tc := range []struct {
		src    string
		line   int
		syntax bool
		msg    string
	}{
		{"a\nb\n{{ 1 + }}", 3, true, "unexpected"},
		{"{% if x %}\n\n\n", 3, true, "'endif'"},
		{"{% for x in y %}\n{% endif %}", 2, true, "'endif'"},
		{"x\n{# open", 2, true, "comment"},
		{"x\n{{ 'abc }}", 2, true, "unterminated string"},
		{"{% frobnicate %}", 1, true, "unknown tag 'frobnicate'"},
		{"{% break %}", 1, true, "outside of a loop"},
		{"ok\n{{ x.y }}", 2, false, "'x' is undefined"},
		{"{% set d = {} %}\n\n{{ d.a.b }}", 3, false, "'dict object' has no attribute 'a'"},
		{"1\n2\n3\n{{ 'a' + 1 }}", 4, false, "can only concatenate str"},
		{"{{ [1]|nosuchfilter }}", 1, true, "no filter named 'nosuchfilter'"},
		{"\n{{ 1 is nosuchtest }}", 2, true, "no test named 'nosuchtest'"},
		{"{% macro m(a) %}\n{{ a.b.c }}\n{% endmacro %}{{ m(none) }}", 2, false, "'None' has no attribute 'b'"},
		{"{{ [].append(1) }}", 1, false, "unsafe"},
	} {
		_, err := render(t, tc.src, nil)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: got %v, want a *jinja.Error", tc.src, err)
			continue
		}
		if e.Line != tc.line || e.IsSyntax() != tc.syntax || !strings.Contains(e.Error(), tc.msg) || !strings.HasPrefix(e.Error(), fmt.Sprintf("t:%d: ", tc.line)) {
			t.Errorf("%q: got %q (line %d, syntax %v), want line %d, syntax %v, containing %q", tc.src, e.Error(), e.Line, e.IsSyntax(), tc.line, tc.syntax, tc.msg)
		}
	}
}

func TestGoFuncErrorsWrap(t *testing.T) {
	sentinel := errors.New("boom")
	tmpl, err := Parse("", "a\n{{ f(1) }}", Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Globals: map[string]Value{"f": Func(func(args []Value, _ []Kwarg) (Value, error) { return nil, sentinel })}}
	_, err = tmpl.Render(env, nil)
	var e *Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) || e.Line != 2 {
		t.Fatalf("got %v", err)
	}
}

// TestLimits checks that hostile templates end with an error, not a hang,
// a crash or unbounded memory.
func TestLimits(t *testing.T) {
	for _, tc := range []struct{ src, msg string }{
		{"{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "step limit"},
		{"{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "recursion"},
		{"{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", "recursion"},
		{"{{ 'x' * 100000000 }}", "exceeds"},
		{"{% set s = 'x' * 1000000 %}{% for i in range(100) %}{{ s }}{% endfor %}", "output exceeds"},
		{"{{ [1] * 100000000 }}", "exceeds"},
		{"{{ range(1000000) }}", "Range too big"},
		{"{{ 10 ** 100 }}", "overflow"},
		{"{{ 9223372036854775807 + 1 }}", "overflow"},
		{strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), "nested too deeply"},
		{"{{ " + strings.Repeat("- ", 1000) + "1 }}", "nested too deeply"},
		{strings.Repeat("{% if 1 %}", 300) + strings.Repeat("{% endif %}", 300), "nested too deeply"},
	} {
		src := tc.src
		if !strings.Contains(src, "{") {
			src = "{{ " + src + " }}"
		}
		tmpl, err := Parse("", src, Options{})
		if err == nil {
			_, err = tmpl.Render(&Env{MaxSteps: 1_000_000, MaxOutput: 10 << 20}, nil)
		}
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%.60q: got %v, want an error with %q", tc.src, err, tc.msg)
		}
	}
	// A namespace that contains itself prints without recursing forever.
	out, err := render(t, "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", nil)
	if err != nil || !strings.HasPrefix(out, "<Namespace {'me': <Namespace {'me': ") || !strings.Contains(out, "...") {
		t.Fatalf("%.100q, %v", out, err)
	}
}

func TestFromGo(t *testing.T) {
	type call struct {
		Name string `json:"name"`
		Args any    `json:"arguments"`
	}
	vars := map[string]any{
		"m":   map[string]any{"zeta": 1, "alpha": []any{uint8(2), float32(0.5), nil}},
		"s":   call{Name: "f", Args: map[string]int{"b": 1, "a": 2}},
		"raw": json.RawMessage(`{"z": 1, "a": {"y": [1.0, 2]}}`),
		"num": json.Number("12"),
		"ss":  []string{"x", "y"},
		"p":   (*call)(nil),
	}
	out, err := render(t, "{{ m }}|{{ s }}|{{ raw }}|{{ num + 1 }}|{{ ss }}|{{ p }}", vars)
	want := "{'alpha': [2, 0.5, None], 'zeta': 1}|{'name': 'f', 'arguments': {'a': 2, 'b': 1}}|{'z': 1, 'a': {'y': [1.0, 2]}}|13|['x', 'y']|None"
	if err != nil || out != want {
		t.Fatalf("got %q, %v\nwant %q", out, err, want)
	}
	if _, err := FromGo(make(chan int)); err == nil {
		t.Fatal("a channel converted")
	}
	for _, bad := range []string{`{"a": }`, `[1, 2`, `{} {}`, ``, `{"a": 1e999999}`} {
		if v, err := FromJSON([]byte(bad)); err == nil && bad != `{"a": 1e999999}` {
			t.Errorf("FromJSON(%q) = %v, want an error", bad, v)
		}
	}
}

func TestJSONMatchesPython(t *testing.T) {
	v, err := FromJSON([]byte(`{"b": [1, 2.5, -0.0, 1e-7, 1e16, 123.0, true, null, "é\u2028\t\"\\<"], "a": {}, "c": []}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts JSONOptions
		want string
	}{
		{JSONOptions{}, `{"b": [1, 2.5, -0.0, 1e-07, 1e+16, 123.0, true, null, "é` + "\u2028" + `\t\"\\<"], "a": {}, "c": []}`},
		{JSONOptions{SortKeys: true, EnsureASCII: true}, `{"a": {}, "b": [1, 2.5, -0.0, 1e-07, 1e+16, 123.0, true, null, "\u00e9\u2028\t\"\\<"], "c": []}`},
		{JSONOptions{Indent: int64(2)}, "{\n  \"b\": [\n    1,\n    2.5,\n    -0.0,\n    1e-07,\n    1e+16,\n    123.0,\n    true,\n    null,\n    \"é\u2028\\t\\\"\\\\<\"\n  ],\n  \"a\": {},\n  \"c\": []\n}"},
		{JSONOptions{Separators: &[2]string{",", ":"}}, `{"b":[1,2.5,-0.0,1e-07,1e+16,123.0,true,null,"é` + "\u2028" + `\t\"\\<"],"a":{},"c":[]}`},
	} {
		got, err := JSON(v, tc.opts)
		if err != nil || got != tc.want {
			t.Errorf("%+v:\n got %q\nwant %q", tc.opts, got, tc.want)
		}
	}
}

func TestFormatFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -2.5: "-2.5", 0.1: "0.1", 1e-4: "0.0001", 1e-5: "1e-05", 1.5e-10: "1.5e-10",
		1e15: "1000000000000000.0", 1e16: "1e+16", 1.2345e20: "1.2345e+20", 123456789.125: "123456789.125",
		1.0 / 3: "0.3333333333333333", math.Inf(-1): "-inf",
	} {
		if got := formatFloat(f); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

// TestConcurrentRender renders one parsed template from many goroutines;
// run with -race.
func TestConcurrentRender(t *testing.T) {
	src := `{% set ns = namespace(n=0) %}{% macro m(x) %}<{{ x }}>{% endmacro %}` +
		`{% for i in items %}{% set ns.n = ns.n + i %}{{ m(i) }}{{ loop.index }}{% endfor %}={{ ns.n }}` +
		`{% set j = joiner(',') %}{% for i in items %}{{ j() }}{{ i }}{% endfor %}`
	tmpl, err := Parse("", src, Options{TrimBlocks: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			items := []any{}
			sum := 0
			for i := 0; i <= g; i++ {
				items = append(items, i)
				sum += i
			}
			for k := 0; k < 50; k++ {
				out, err := tmpl.Render(nil, map[string]any{"items": items})
				if err != nil {
					errs <- err
					return
				}
				if !strings.Contains(out, fmt.Sprintf("=%d", sum)) {
					errs <- fmt.Errorf("goroutine %d: %q", g, out)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
