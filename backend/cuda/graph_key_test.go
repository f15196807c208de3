package cuda

import (
	"testing"

	"github.com/rlx-go/rlx/backend"
)

// TestGraphEntryKey checks, without a GPU, when a launch list keeps its
// graph entry: the same list, binding and generation share one; a moved
// binding, a freed buffer (generation) or another list start afresh.
func TestGraphEntryKey(t *testing.T) {
	b := &Backend{graphs: map[graphKey]*graphEntry{}}
	ls := make([]backend.Launch, 5)
	other := make([]backend.Launch, 5)
	env := &backend.Env{Bind: map[string]int{"seq": 1, "past": 7}}

	e1 := b.entry(env, ls)
	e1.seen = 2
	if e := b.entry(&backend.Env{Bind: map[string]int{"seq": 1, "past": 7}}, ls); e != e1 {
		t.Error("an equal binding made a new entry")
	}
	env.Bind["past"] = 8 // the entry keeps its own copy of the binding
	if e := b.entry(env, ls); e == e1 || e.seen != 0 {
		t.Error("a moved binding kept the entry")
	}
	e2 := b.entry(env, ls)
	if e := b.entry(env, ls[:4]); e == e2 {
		t.Error("a shorter list shares the entry")
	}
	if e := b.entry(env, other); e == e2 {
		t.Error("another list shares the entry")
	}
	b.invalidate()
	if e := b.entry(env, ls); e == e2 {
		t.Error("an entry survived a new generation")
	}
	if e := b.entry(nil, other); e == nil || e.bind != nil {
		t.Errorf("nil env: %+v", e)
	}
	for i := range 2 * maxGraphs {
		b.entry(env, make([]backend.Launch, i+1))
	}
	if len(b.graphs) > maxGraphs {
		t.Errorf("%d entries kept, at most %d", len(b.graphs), maxGraphs)
	}
}
