package jinja

// The syntax tree. Nodes are immutable after parsing, so one parsed
// Template can render concurrently.

type line int

func (l line) pos() int { return int(l) }

type node interface{ pos() int }

type expr interface{ pos() int }

// Statements.
type (
	textNode struct {
		line
		text string
	}
	outputNode struct {
		line
		x expr
	}
	ifNode struct {
		line
		conds  []expr
		bodies [][]node
		els    []node
	}
	forNode struct {
		line
		target    assignTarget
		iter      expr
		cond      expr // optional "if" filter
		body, els []node
		recursive bool
	}
	setNode struct {
		line
		target assignTarget
		value  expr
	}
	setBlockNode struct {
		line
		target  assignTarget
		filters []*filterExpr // applied to the captured text; obj is nil
		body    []node
	}
	macroNode struct {
		line
		def *macroDef
	}
	callBlockNode struct {
		line
		caller *macroDef // the body, as the "caller" macro
		call   *callExpr
	}
	filterBlockNode struct {
		line
		filters []*filterExpr
		body    []node
	}
	withNode struct {
		line
		targets []assignTarget
		values  []expr
		body    []node
	}
	breakNode    struct{ line }
	continueNode struct{ line }
)

// assignTarget is the left side of set/for/with: a name, a (possibly
// nested) tuple of targets, or a namespace attribute (ns.attr).
type assignTarget struct {
	names []string       // the name (or the namespace, with attr)
	tuple bool           // unpack into items: "a, (b, c)"
	items []assignTarget // when tuple
	attr  string         // set only: names[0].attr = …
}

type param struct {
	name string
	def  expr // nil when required
}

type macroDef struct {
	name      string
	params    []param
	body      []node
	line      int
	usesCall  bool // body refers to caller
	usesVargs bool
	usesKw    bool
}

// Expressions.
type (
	constExpr struct {
		line
		v Value
	}
	nameExpr struct {
		line
		name string
	}
	listExpr struct {
		line
		items []expr
		tuple bool
	}
	dictExpr struct {
		line
		keys, vals []expr
	}
	attrExpr struct {
		line
		obj  expr
		name string
	}
	itemExpr struct {
		line
		obj, index expr
	}
	sliceExpr struct {
		line
		obj               expr
		start, stop, step expr // any may be nil
		// ancestors are the enclosing expressions, innermost first, up to
		// the statement's expression; inOutput says that root is a {{ }}.
		// jinja2 folds constant expressions at compile time with its
		// forgiving item lookup, so whether slicing a non-sequence is an
		// error depends on them (see renderer.folds).
		ancestors []expr
		inOutput  bool
	}
	callExpr struct {
		line
		fn     expr
		args   []expr
		kwargs []kwExpr
	}
	kwExpr struct {
		name string
		x    expr
	}
	filterExpr struct {
		line
		obj    expr
		name   string
		args   []expr
		kwargs []kwExpr
	}
	testExpr struct {
		line
		obj    expr
		name   string
		args   []expr
		kwargs []kwExpr
		negate bool
	}
	unaryExpr struct {
		line
		op string // "-", "+"
		x  expr
	}
	binExpr struct {
		line
		op   string // + - * / // % ** ~
		l, r expr
	}
	andExpr struct {
		line
		l, r expr
	}
	orExpr struct {
		line
		l, r expr
	}
	notExpr struct {
		line
		x expr
	}
	compareExpr struct {
		line
		first expr
		ops   []string // == != < > <= >= in notin
		rest  []expr
	}
	condExpr struct {
		line
		test, then, els expr // els may be nil
	}
)
