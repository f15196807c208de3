// Package jinja is an interpreter for the Jinja2 template language, with the
// semantics of Python's jinja2 in an immutable sandbox: Python-like values
// (None, bool, int, float, str, list, tuple, dict with insertion order),
// jinja2's default Undefined, its filters, tests and loop variables, and the
// str/list/dict methods Python exposes to templates.
//
// It exists to render Hugging Face chat templates exactly; see package chat
// for the settings transformers uses. A Template is parsed once and may be
// rendered from many goroutines at the same time.
package jinja

import (
	"errors"
	"fmt"
	"strings"
)

// Options are jinja2 Environment settings that change how source is read.
type Options struct {
	// TrimBlocks removes the first newline after a block or comment tag.
	TrimBlocks bool
	// LStripBlocks strips spaces and tabs from the start of a line up to
	// a block or comment tag.
	LStripBlocks bool
}

// Template is a parsed template.
type Template struct {
	name string
	body []node
	// hard lists filter and test names that must exist when rendering
	// starts (jinja2 rejects them at compile time).
	hard []nameUse
}

// Parse parses src. name is used in error messages only (it may be "").
func Parse(name, src string, opts Options) (*Template, error) {
	toks, err := lex(src, opts.TrimBlocks, opts.LStripBlocks)
	if err != nil {
		return nil, withName(err, name)
	}
	p := &parser{toks: toks}
	body, err := p.parseTemplate()
	if err != nil {
		return nil, withName(err, name)
	}
	linkSlices(body)
	t := &Template{name: name, body: body}
	for _, u := range p.uses {
		if !u.soft {
			t.hard = append(t.hard, u)
		}
	}
	return t, nil
}

// Filter is a Go implementation of a template filter: v | name(args…).
type Filter func(v Value, args []Value, kwargs []Kwarg) (Value, error)

// Env holds what a render may use beyond its variables. The zero Env is
// jinja2's default environment.
type Env struct {
	// Globals are names visible to every render (functions, constants);
	// render variables shadow them.
	Globals map[string]Value
	// Filters add filters or replace built-in ones.
	Filters map[string]Filter
	// MaxSteps bounds the work of one render (statements executed and loop
	// iterations); 0 means DefaultMaxSteps.
	MaxSteps int64
	// MaxOutput bounds the size in bytes of any string a render builds;
	// 0 means DefaultMaxOutput.
	MaxOutput int
}

// Limits that keep a hostile template from running forever or filling
// memory; real chat templates stay far below them.
const (
	DefaultMaxSteps  = 50_000_000
	DefaultMaxOutput = 64 << 20
)

// Error is a template error: a syntax error found by Parse, or a runtime
// error from Render (including errors returned by Go functions, which it
// wraps).
type Error struct {
	Name   string // template name, may be ""
	Line   int    // 1-based line in the template source, 0 if unknown
	Msg    string
	Err    error // the wrapped cause, if any
	syntax bool
}

// Error formats the error as "name:line: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Name != "" {
		b.WriteString(e.Name)
		b.WriteString(":")
	} else {
		b.WriteString("template:")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	b.WriteString(" ")
	if e.syntax {
		b.WriteString("syntax error: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the wrapped cause, such as a Go function's error.
func (e *Error) Unwrap() error { return e.Err }

// IsSyntax reports whether the error was found while parsing.
func (e *Error) IsSyntax() bool { return e.syntax }

func withName(err error, name string) error {
	var e *Error
	if errors.As(err, &e) && e.Name == "" {
		e.Name = name
	}
	return err
}

// Render renders the template with vars (converted by FromGo) in env,
// which may be nil.
func (t *Template) Render(env *Env, vars map[string]any) (string, error) {
	if env == nil {
		env = &Env{}
	}
	for _, u := range t.hard {
		_, ok := builtinTests[u.name]
		kind := "test"
		if !u.test {
			kind = "filter"
			_, ok = env.Filters[u.name]
			if _, builtin := builtinFilters[u.name]; builtin {
				ok = true
			}
		}
		if !ok {
			return "", withName(&Error{Line: u.line, Msg: fmt.Sprintf("no %s named '%s'", kind, u.name), syntax: true}, t.name)
		}
	}
	root := &scope{names: make([]string, 0, len(vars)), vals: make([]Value, 0, len(vars))}
	for k, v := range vars {
		cv, err := FromGo(v)
		if err != nil {
			return "", fmt.Errorf("variable %q: %w", k, err)
		}
		root.set(k, cv)
	}
	r := &renderer{env: env, root: root, out: &strings.Builder{}}
	r.maxSteps = env.MaxSteps
	if r.maxSteps <= 0 {
		r.maxSteps = DefaultMaxSteps
	}
	r.maxOut = env.MaxOutput
	if r.maxOut <= 0 {
		r.maxOut = DefaultMaxOutput
	}
	err := r.execBody(t.body, root)
	if err != nil {
		var e *Error
		switch {
		case errors.Is(err, errBreak) || errors.Is(err, errContinue):
			err = &Error{Msg: "break or continue outside of a loop"}
		case !errors.As(err, &e):
			err = &Error{Msg: err.Error(), Err: err}
		}
		return "", withName(err, t.name)
	}
	return r.out.String(), nil
}
