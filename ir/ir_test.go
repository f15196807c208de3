package ir

import (
	"strings"
	"testing"

	"github.com/rlx-go/rlx/tensor"
)

func TestDimAlgebra(t *testing.T) {
	seq, past, batch := Sym("seq"), Sym("past"), Sym("batch")
	kl := past.Add(seq)
	if got := kl.String(); got != "past+seq" {
		t.Fatalf("past+seq printed %q", got)
	}
	if !kl.Equal(seq.Add(past)) {
		t.Fatal("addition is not commutative")
	}
	bs := batch.Mul(seq).MulN(4)
	if got := bs.String(); got != "4*batch*seq" {
		t.Fatalf("got %q", got)
	}
	if !bs.Equal(seq.MulN(2).Mul(batch.MulN(2))) {
		t.Fatal("product not canonical")
	}
	two := seq.MulN(2).AddN(-3)
	if got := two.String(); got != "2*seq-3" {
		t.Fatalf("got %q", got)
	}
	v, err := kl.Mul(bs).AddN(7).Eval(map[string]int{"seq": 3, "past": 5, "batch": 2})
	if err != nil || v != (5+3)*(4*2*3)+7 {
		t.Fatalf("eval = %d, %v", v, err)
	}
	if _, err := kl.Eval(map[string]int{"seq": 1}); err == nil || !strings.Contains(err.Error(), "past") {
		t.Fatalf("unbound symbol not reported: %v", err)
	}
	if q, ok := seq.MulN(6).AddN(4).DivN(2); !ok || q.String() != "3*seq+2" {
		t.Fatalf("DivN exact: %v %v", q, ok)
	}
	if _, ok := seq.MulN(3).DivN(2); ok {
		t.Fatal("DivN inexact accepted")
	}
	if !seq.Sub(seq).Equal(N(0)) || N(0).String() != "0" {
		t.Fatal("x-x != 0")
	}
	if s, c, k, ok := seq.MulN(3).AddN(2).Linear(); !ok || s != "seq" || c != 3 || k != 2 {
		t.Fatal("Linear")
	}
}

func TestBuilderShapes(t *testing.T) {
	b := NewBuilder()
	seq := Sym("seq")
	x := b.Input("x", tensor.F32, N(2), seq, N(8))
	w := b.Param("w", tensor.F16, N(16), N(8))
	y := b.Linear(x, w, Value{})
	if !y.Shape().Equal(Shape{N(2), seq, N(16)}) || y.DType() != tensor.F32 {
		t.Fatalf("Linear gives %v%v", y.DType(), y.Shape())
	}
	r := b.Reshape(y, N(2), seq, N(4), N(-1))
	if !r.Shape().Equal(Shape{N(2), seq, N(4), N(4)}) {
		t.Fatalf("reshape -1: %v", r.Shape())
	}
	s := b.Add(r, b.ConstF32([]float32{1, 2, 3, 4}, 4))
	if !s.Shape().Equal(r.Shape()) {
		t.Fatalf("broadcast: %v", s.Shape())
	}
	c := b.Concat(1, x, x)
	if !c.Dim(1).Equal(seq.MulN(2)) {
		t.Fatalf("concat: %v", c.Shape())
	}
	b.Output("y", s)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs()) != 1 || len(g.Params()) != 1 || len(g.Symbols()) != 1 {
		t.Fatalf("graph bookkeeping: %d %d %v", len(g.Inputs()), len(g.Params()), g.Symbols())
	}
}

func TestBuilderErrors(t *testing.T) {
	cases := []struct {
		name string
		fn   func(b *Builder)
		want string
	}{
		{"matmul inner", func(b *Builder) {
			b.Output("o", b.MatMul(b.Input("a", tensor.F32, N(2), N(3)), b.Input("b", tensor.F32, N(4), N(5))))
		}, "inner dims"},
		{"broadcast", func(b *Builder) {
			b.Output("o", b.Add(b.Input("a", tensor.F32, N(2), N(3)), b.Input("b", tensor.F32, N(4))))
		}, "do not broadcast"},
		{"dtype", func(b *Builder) {
			b.Output("o", b.Add(b.Input("a", tensor.F32, N(2)), b.Input("b", tensor.F16, N(2))))
		}, "dtypes differ"},
		{"dup name", func(b *Builder) {
			b.Input("a", tensor.F32, N(2))
			b.Output("o", b.Input("a", tensor.F32, N(2)))
		}, "already used"},
		{"reshape", func(b *Builder) {
			b.Output("o", b.Reshape(b.Input("a", tensor.F32, Sym("s"), N(3)), Sym("s"), N(2)))
		}, "element counts"},
		{"quant K", func(b *Builder) { b.Param("w", tensor.Q4_K, N(4), N(100)) }, "block size"},
		{"symbolic param", func(b *Builder) { b.Param("w", tensor.F32, Sym("s")) }, "symbolic"},
		{"gqa", func(b *Builder) {
			q := b.Input("q", tensor.F32, N(1), N(3), N(6), N(4))
			k := b.Input("k", tensor.F32, N(1), N(3), N(4), N(4))
			b.Output("o", b.Attention(q, k, k, AttentionOptions{Causal: true}))
		}, "multiple"},
		{"no outputs", func(b *Builder) { b.Input("a", tensor.F32) }, "no outputs"},
		{"conv symbolic stride", func(b *Builder) {
			x := b.Input("x", tensor.F32, N(1), N(2), Sym("L"))
			w := b.Param("w", tensor.F32, N(3), N(2), N(3))
			b.Output("o", b.Conv1D(x, w, Value{}, ConvOptions{Stride: []int{2}}))
		}, "not exact"},
	}
	for _, c := range cases {
		b := NewBuilder()
		b.Label("blk")
		c.fn(b)
		_, err := b.Build()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestFirstErrorWins(t *testing.T) {
	b := NewBuilder()
	a := b.Input("a", tensor.F32, N(2))
	bad := b.MatMul(a, a) // rank error
	if bad.Valid() {
		t.Fatal("invalid op returned a valid value")
	}
	b.Output("o", b.Exp(bad))
	_, err := b.Build()
	if err == nil || !strings.Contains(err.Error(), "rank") {
		t.Fatalf("first error lost: %v", err)
	}
}

func TestHelpers(t *testing.T) {
	b := NewBuilder()
	seq := Sym("seq")
	x := b.Input("x", tensor.F32, N(2), seq, N(12))
	parts := b.Split(x, -1, N(4), N(8))
	if !parts[1].Shape().Equal(Shape{N(2), seq, N(8)}) {
		t.Fatalf("split: %v", parts[1].Shape())
	}
	u := b.Unsqueeze(x, 1)
	if !u.Shape().Equal(Shape{N(2), N(1), seq, N(12)}) {
		t.Fatalf("unsqueeze: %v", u.Shape())
	}
	if sq := b.Squeeze(u, 1); !sq.Shape().Equal(x.Shape()) {
		t.Fatalf("squeeze: %v", sq.Shape())
	}
	if !x.Shape().Equal(Shape{N(2), seq, N(12)}) {
		t.Fatalf("helpers changed their input's shape: %v", x.Shape())
	}
	b.Output("c", b.Clamp(x, -1, 1))
	if _, err := b.Build(); err != nil {
		t.Fatal(err)
	}
	b.Split(x, 2, N(5))
	if _, err := b.Build(); err == nil {
		t.Fatal("bad split accepted")
	}
	b2 := NewBuilder()
	b2.Squeeze(b2.Input("x", tensor.F32, N(3)), 0)
	if _, err := b2.Build(); err == nil {
		t.Fatal("squeezing a size-3 axis accepted")
	}
}
