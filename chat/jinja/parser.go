package jinja

import (
	"fmt"
	"strings"
)

// maxNesting bounds the depth of nested expressions and blocks, so a
// hostile template cannot exhaust the stack of the parser or renderer.
const maxNesting = 256

type parser struct {
	toks  []token
	i     int
	depth int
	// blocks is the stack of open block tags, for error messages.
	blocks []openBlock
	// refs collects the names each enclosing macro body refers to.
	refs []map[string]bool
	// uses records every filter and test name with its line. jinja2
	// rejects unknown names when it compiles, except in "soft" places:
	// an if statement's test and bodies and an inline if-expression
	// (until a loop, macro or block opens a new frame).
	uses []nameUse
	soft bool
}

type nameUse struct {
	test bool // a test; else a filter
	name string
	line int
	soft bool
}

// hardFrame parses body with soft places switched off, as jinja2's inner
// frames (loops, macros, blocks) do.
func (p *parser) hardFrame(body func() error) error {
	saved := p.soft
	p.soft = false
	err := body()
	p.soft = saved
	return err
}

type openBlock struct {
	tag  string
	line int
}

func (p *parser) cur() token  { return p.toks[p.i] }
func (p *parser) peek() token { return p.toks[min(p.i+1, len(p.toks)-1)] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) errorf(ln int, format string, args ...any) error {
	return &Error{Line: ln, Msg: fmt.Sprintf(format, args...), syntax: true}
}

func (p *parser) isOp(op string) bool {
	t := p.cur()
	return t.kind == tokOp && t.val == op
}

func (p *parser) isName(name string) bool {
	t := p.cur()
	return t.kind == tokName && t.val == name
}

func (p *parser) skipOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) skipName(name string) bool {
	if p.isName(name) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectOp(op string) error {
	if !p.skipOp(op) {
		return p.errorf(p.cur().line, "expected '%s', got %s", op, p.cur())
	}
	return nil
}

func (p *parser) expectKind(k tokKind) error {
	if p.cur().kind != k {
		return p.errorf(p.cur().line, "expected %s, got %s", k, p.cur())
	}
	p.next()
	return nil
}

func (p *parser) expectName() (string, error) {
	t := p.cur()
	if t.kind != tokName {
		return "", p.errorf(t.line, "expected a name, got %s", t)
	}
	p.next()
	return t.val, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return p.errorf(p.cur().line, "template nested too deeply (more than %d levels)", maxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseTemplate parses the whole token stream.
func (p *parser) parseTemplate() ([]node, error) {
	body, end, err := p.parseBody()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, p.errorf(p.cur().line, "unexpected tag '%s'", end)
	}
	return body, nil
}

// parseBody parses nodes until the end of the template or a block tag whose
// name is in ends. It returns the name of the end tag it stopped at (the
// name has been consumed; the rest of that tag has not), or "" at EOF.
func (p *parser) parseBody(ends ...string) ([]node, string, error) {
	if err := p.enter(); err != nil {
		return nil, "", err
	}
	defer p.leave()
	var body []node
	for {
		t := p.cur()
		switch t.kind {
		case tokEOF:
			if len(ends) > 0 {
				return nil, "", p.unclosed(ends)
			}
			return body, "", nil
		case tokData:
			p.next()
			body = append(body, &textNode{line(t.line), t.val})
		case tokVarBegin:
			p.next()
			x, err := p.parseTuple(true, false)
			if err != nil {
				return nil, "", err
			}
			if err := p.expectKind(tokVarEnd); err != nil {
				return nil, "", err
			}
			body = append(body, &outputNode{line(t.line), x})
		case tokBlockBegin:
			p.next()
			nameTok := p.cur()
			if nameTok.kind != tokName {
				return nil, "", p.errorf(nameTok.line, "expected a tag name after '{%%', got %s", nameTok)
			}
			for _, e := range ends {
				if nameTok.val == e {
					p.next()
					return body, e, nil
				}
			}
			n, err := p.parseStatement()
			if err != nil {
				return nil, "", err
			}
			if n != nil {
				body = append(body, n...)
			}
		default:
			return nil, "", p.errorf(t.line, "unexpected %s", t)
		}
	}
}

func (p *parser) unclosed(ends []string) error {
	quoted := make([]string, len(ends))
	for i, e := range ends {
		quoted[i] = "'" + e + "'"
	}
	msg := fmt.Sprintf("unexpected end of template, expected %s", strings.Join(quoted, " or "))
	if len(p.blocks) > 0 {
		b := p.blocks[len(p.blocks)-1]
		msg += fmt.Sprintf(" to close the '%s' block opened on line %d", b.tag, b.line)
	}
	return p.errorf(p.cur().line, "%s", msg)
}

// parseBlock parses a body that must end with one of ends, recording the
// open block for error messages.
func (p *parser) parseBlock(tag string, ln int, ends ...string) ([]node, string, error) {
	var body []node
	var end string
	err := p.hardFrame(func() error {
		var err error
		body, end, err = p.parseOpenBlock(tag, ln, ends...)
		return err
	})
	return body, end, err
}

// parseOpenBlock is parseBlock for blocks that do not open a jinja2 frame
// (if bodies, generation blocks): soft places stay soft.
func (p *parser) parseOpenBlock(tag string, ln int, ends ...string) ([]node, string, error) {
	p.blocks = append(p.blocks, openBlock{tag, ln})
	body, end, err := p.parseBody(ends...)
	p.blocks = p.blocks[:len(p.blocks)-1]
	return body, end, err
}

func (p *parser) endTag() error {
	return p.expectKind(tokBlockEnd)
}

// parseStatement parses one {% tag %} whose name is the current token.
func (p *parser) parseStatement() ([]node, error) {
	t := p.next()
	ln := line(t.line)
	switch t.val {
	case "if":
		return p.parseIf(ln)
	case "for":
		return p.parseFor(ln)
	case "set":
		return p.parseSet(ln)
	case "macro":
		return p.parseMacro(ln)
	case "call":
		return p.parseCallBlock(ln)
	case "filter":
		return p.parseFilterBlock(ln)
	case "with":
		return p.parseWith(ln)
	case "break", "continue":
		inLoop := false
		for _, b := range p.blocks {
			switch b.tag {
			case "for":
				inLoop = true
			case "macro", "call":
				inLoop = false
			}
		}
		if !inLoop {
			return nil, p.errorf(t.line, "'%s' outside of a loop", t.val)
		}
		if err := p.endTag(); err != nil {
			return nil, err
		}
		if t.val == "break" {
			return []node{&breakNode{ln}}, nil
		}
		return []node{&continueNode{ln}}, nil
	case "generation":
		// transformers' AssistantTracker extension: the body renders as is.
		if err := p.endTag(); err != nil {
			return nil, err
		}
		body, _, err := p.parseOpenBlock("generation", t.line, "endgeneration")
		if err != nil {
			return nil, err
		}
		return body, p.endTag()
	case "block", "extends", "include", "import", "from":
		return nil, p.errorf(t.line, "tag '%s' is not supported: chat templates are rendered without a loader", t.val)
	case "do":
		return nil, p.errorf(t.line, "tag 'do' is not supported (the jinja2 'do' extension is not enabled for chat templates)")
	}
	return nil, p.errorf(t.line, "unknown tag '%s'", t.val)
}

func (p *parser) parseIf(ln line) ([]node, error) {
	saved := p.soft
	p.soft = true
	defer func() { p.soft = saved }()
	n := &ifNode{line: ln}
	for {
		cond, err := p.parseTuple(false, false)
		if err != nil {
			return nil, err
		}
		if err := p.endTag(); err != nil {
			return nil, err
		}
		body, end, err := p.parseOpenBlock("if", int(ln), "elif", "else", "endif")
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		switch end {
		case "elif":
			continue
		case "else":
			if err := p.endTag(); err != nil {
				return nil, err
			}
			els, _, err := p.parseOpenBlock("if", int(ln), "endif")
			if err != nil {
				return nil, err
			}
			n.els = els
		}
		return []node{n}, p.endTag()
	}
}

func (p *parser) parseAssignTarget(allowAttr bool, extraEnd string) (assignTarget, error) {
	if allowAttr && p.cur().kind == tokName && p.peek().kind == tokOp && p.peek().val == "." {
		name := p.next().val
		p.next()
		attr, err := p.expectName()
		if err != nil {
			return assignTarget{}, err
		}
		return assignTarget{names: []string{name}, attr: attr}, nil
	}
	return p.parseTargetTuple(extraEnd, false)
}

// parseTargetTuple parses "a", "a, b", "(a, (b, c))": names and
// parenthesized tuples separated by commas.
func (p *parser) parseTargetTuple(extraEnd string, inParens bool) (assignTarget, error) {
	if err := p.enter(); err != nil {
		return assignTarget{}, err
	}
	defer p.leave()
	var items []assignTarget
	isTuple := inParens && p.isOp(")")
	for !(inParens && p.isOp(")")) {
		var it assignTarget
		if p.skipOp("(") {
			var err error
			if it, err = p.parseTargetTuple("", true); err != nil {
				return it, err
			}
			if err := p.expectOp(")"); err != nil {
				return it, err
			}
		} else {
			t := p.cur()
			name, err := p.expectName()
			if err != nil {
				return it, err
			}
			switch name {
			case "true", "false", "none", "True", "False", "None":
				return it, p.errorf(t.line, "cannot assign to '%s'", name)
			}
			it = assignTarget{names: []string{name}}
		}
		items = append(items, it)
		if !p.skipOp(",") {
			break
		}
		isTuple = true
		if p.isTupleEnd(false) || p.isOp("=") || (extraEnd != "" && p.isName(extraEnd)) {
			break
		}
	}
	if !isTuple {
		if len(items) == 0 {
			return assignTarget{}, p.errorf(p.cur().line, "expected a name, got %s", p.cur())
		}
		return items[0], nil
	}
	return assignTarget{tuple: true, items: items}, nil
}

func (p *parser) parseFor(ln line) ([]node, error) {
	n := &forNode{line: ln}
	var err error
	if n.target, err = p.parseAssignTarget(false, "in"); err != nil {
		return nil, err
	}
	if !p.skipName("in") {
		return nil, p.errorf(p.cur().line, "expected 'in' in for loop, got %s", p.cur())
	}
	if n.iter, err = p.parseTuple(false, true); err != nil {
		return nil, err
	}
	if p.skipName("if") {
		// The loop filter is compiled in the loop's frame.
		if err := p.hardFrame(func() error {
			n.cond, err = p.parseExpression(true)
			return err
		}); err != nil {
			return nil, err
		}
	}
	if p.skipName("recursive") {
		n.recursive = true
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	body, end, err := p.parseBlock("for", int(ln), "endfor", "else")
	if err != nil {
		return nil, err
	}
	n.body = body
	if end == "else" {
		if err := p.endTag(); err != nil {
			return nil, err
		}
		if n.els, _, err = p.parseBlock("for", int(ln), "endfor"); err != nil {
			return nil, err
		}
	}
	return []node{n}, p.endTag()
}

func (p *parser) parseSet(ln line) ([]node, error) {
	tg, err := p.parseAssignTarget(true, "")
	if err != nil {
		return nil, err
	}
	if p.skipOp("=") {
		v, err := p.parseTuple(true, false)
		if err != nil {
			return nil, err
		}
		return []node{&setNode{ln, tg, v}}, p.endTag()
	}
	if tg.attr != "" || tg.tuple {
		return nil, p.errorf(int(ln), "a block 'set' assigns a single name")
	}
	n := &setBlockNode{line: ln, target: tg}
	for p.skipOp("|") {
		f, err := p.parseFilter(nil)
		if err != nil {
			return nil, err
		}
		n.filters = append(n.filters, f)
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	if n.body, _, err = p.parseBlock("set", int(ln), "endset"); err != nil {
		return nil, err
	}
	return []node{n}, p.endTag()
}

func (p *parser) parseParams() ([]param, error) {
	var params []param
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	for !p.isOp(")") {
		if len(params) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		name, err := p.expectName()
		if err != nil {
			return nil, err
		}
		pr := param{name: name}
		if p.skipOp("=") {
			if pr.def, err = p.parseExpression(true); err != nil {
				return nil, err
			}
		} else if len(params) > 0 && params[len(params)-1].def != nil {
			return nil, p.errorf(p.cur().line, "non-default argument '%s' follows default argument", name)
		}
		params = append(params, pr)
	}
	p.next()
	return params, nil
}

func (p *parser) parseMacro(ln line) ([]node, error) {
	name, err := p.expectName()
	if err != nil {
		return nil, err
	}
	params, err := p.parseParams()
	if err != nil {
		return nil, err
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	p.refs = append(p.refs, map[string]bool{})
	body, _, err := p.parseBlock("macro", int(ln), "endmacro")
	refs := p.refs[len(p.refs)-1]
	p.refs = p.refs[:len(p.refs)-1]
	if err != nil {
		return nil, err
	}
	if p.cur().kind == tokName && p.cur().val == name {
		p.next()
	}
	def := &macroDef{name: name, params: params, body: body, line: int(ln),
		usesCall: refs["caller"], usesVargs: refs["varargs"], usesKw: refs["kwargs"]}
	return []node{&macroNode{ln, def}}, p.endTag()
}

func (p *parser) parseCallBlock(ln line) ([]node, error) {
	var params []param
	var err error
	if p.isOp("(") {
		if params, err = p.parseParams(); err != nil {
			return nil, err
		}
	}
	x, err := p.parseExpression(true)
	if err != nil {
		return nil, err
	}
	call, ok := x.(*callExpr)
	if !ok {
		return nil, p.errorf(int(ln), "expected a call after 'call'")
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	p.refs = append(p.refs, map[string]bool{})
	body, _, err := p.parseBlock("call", int(ln), "endcall")
	refs := p.refs[len(p.refs)-1]
	p.refs = p.refs[:len(p.refs)-1]
	if err != nil {
		return nil, err
	}
	def := &macroDef{name: "caller", params: params, body: body, line: int(ln),
		usesCall: refs["caller"], usesVargs: refs["varargs"], usesKw: refs["kwargs"]}
	return []node{&callBlockNode{ln, def, call}}, p.endTag()
}

func (p *parser) parseFilterBlock(ln line) ([]node, error) {
	n := &filterBlockNode{line: ln}
	for {
		f, err := p.parseFilter(nil)
		if err != nil {
			return nil, err
		}
		n.filters = append(n.filters, f)
		if !p.skipOp("|") {
			break
		}
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	var err error
	if n.body, _, err = p.parseBlock("filter", int(ln), "endfilter"); err != nil {
		return nil, err
	}
	return []node{n}, p.endTag()
}

func (p *parser) parseWith(ln line) ([]node, error) {
	n := &withNode{line: ln}
	for p.cur().kind != tokBlockEnd {
		if len(n.targets) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		tg, err := p.parseAssignTarget(false, "")
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		v, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		n.targets = append(n.targets, tg)
		n.values = append(n.values, v)
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	var err error
	if n.body, _, err = p.parseBlock("with", int(ln), "endwith"); err != nil {
		return nil, err
	}
	return []node{n}, p.endTag()
}

// Expressions, following jinja2's grammar and precedence.

func (p *parser) isTupleEnd(extraIn bool) bool {
	t := p.cur()
	switch t.kind {
	case tokVarEnd, tokBlockEnd, tokEOF:
		return true
	case tokOp:
		return t.val == ")"
	case tokName:
		return extraIn && t.val == "in"
	}
	return false
}

// parseTuple parses a comma-separated expression list; without a comma it
// is a single expression.
func (p *parser) parseTuple(withCond, simplified bool) (expr, error) {
	ln := p.cur().line
	var items []expr
	isTuple := false
	for {
		if len(items) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		if p.isTupleEnd(false) {
			break
		}
		var x expr
		var err error
		if simplified {
			x, err = p.parseOr()
		} else {
			x, err = p.parseExpression(withCond)
		}
		if err != nil {
			return nil, err
		}
		items = append(items, x)
		if p.isOp(",") {
			isTuple = true
		} else {
			break
		}
	}
	if !isTuple {
		if len(items) == 1 {
			return items[0], nil
		}
		return nil, p.errorf(p.cur().line, "expected an expression, got %s", p.cur())
	}
	return &listExpr{line(ln), items, true}, nil
}

func (p *parser) parseExpression(withCond bool) (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if withCond {
		return p.parseCondExpr()
	}
	return p.parseOr()
}

func (p *parser) parseCondExpr() (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	ln := p.cur().line
	start := len(p.uses)
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.isName("if") {
		// The whole if-expression is soft, its first operand included.
		for i := start; i < len(p.uses); i++ {
			p.uses[i].soft = true
		}
		saved := p.soft
		p.soft = true
		defer func() { p.soft = saved }()
	}
	for p.skipName("if") {
		test, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		var els expr
		if p.skipName("else") {
			if els, err = p.parseCondExpr(); err != nil {
				return nil, err
			}
		}
		x = &condExpr{line(ln), test, x, els}
	}
	return x, nil
}

func (p *parser) parseOr() (expr, error) {
	ln := p.cur().line
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.skipName("or") {
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &orExpr{line(ln), l, r}
	}
	return l, nil
}

func (p *parser) parseAnd() (expr, error) {
	ln := p.cur().line
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.skipName("and") {
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = &andExpr{line(ln), l, r}
	}
	return l, nil
}

func (p *parser) parseNot() (expr, error) {
	if p.isName("not") {
		ln := p.next().line
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &notExpr{line(ln), x}, nil
	}
	return p.parseCompare()
}

func (p *parser) parseCompare() (expr, error) {
	ln := p.cur().line
	first, err := p.parseMath1()
	if err != nil {
		return nil, err
	}
	var ops []string
	var rest []expr
	for {
		t := p.cur()
		var op string
		switch {
		case t.kind == tokOp && (t.val == "==" || t.val == "!=" || t.val == "<" || t.val == ">" || t.val == "<=" || t.val == ">="):
			op = t.val
			p.next()
		case t.kind == tokName && t.val == "in":
			op = "in"
			p.next()
		case t.kind == tokName && t.val == "not" && p.peek().kind == tokName && p.peek().val == "in":
			op = "notin"
			p.next()
			p.next()
		}
		if op == "" {
			break
		}
		r, err := p.parseMath1()
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
		rest = append(rest, r)
	}
	if len(ops) == 0 {
		return first, nil
	}
	return &compareExpr{line(ln), first, ops, rest}, nil
}

// Binary operator levels, loosest first.
var (
	opsMath1  = []string{"+", "-"}
	opsConcat = []string{"~"}
	opsMath2  = []string{"*", "/", "//", "%"}
	opsPow    = []string{"**"}
)

func (p *parser) parseBinary(ops []string, sub func(*parser) (expr, error)) (expr, error) {
	ln := p.cur().line
	l, err := sub(p)
	if err != nil {
		return nil, err
	}
	for {
		t := p.cur()
		if t.kind != tokOp {
			return l, nil
		}
		found := false
		for _, op := range ops {
			if t.val == op {
				found = true
				break
			}
		}
		if !found {
			return l, nil
		}
		p.next()
		r, err := sub(p)
		if err != nil {
			return nil, err
		}
		l = &binExpr{line(ln), t.val, l, r}
	}
}

func (p *parser) parseMath1() (expr, error)  { return p.parseBinary(opsMath1, (*parser).parseConcat) }
func (p *parser) parseConcat() (expr, error) { return p.parseBinary(opsConcat, (*parser).parseMath2) }
func (p *parser) parseMath2() (expr, error)  { return p.parseBinary(opsMath2, (*parser).parsePow) }
func (p *parser) parsePow() (expr, error)    { return p.parseBinary(opsPow, (*parser).parseUnaryFiltered) }

func (p *parser) parseUnaryFiltered() (expr, error) { return p.parseUnary(true) }

func (p *parser) parseUnary(withFilter bool) (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.cur()
	var x expr
	var err error
	if t.kind == tokOp && (t.val == "-" || t.val == "+") {
		p.next()
		inner, err := p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		x = &unaryExpr{line(t.line), t.val, inner}
	} else if x, err = p.parsePrimary(); err != nil {
		return nil, err
	}
	if x, err = p.parsePostfix(x); err != nil {
		return nil, err
	}
	if withFilter {
		return p.parseFilterExpr(x)
	}
	return x, nil
}

func (p *parser) parsePrimary() (expr, error) {
	t := p.cur()
	ln := line(t.line)
	switch t.kind {
	case tokName:
		p.next()
		switch t.val {
		case "true", "True":
			return &constExpr{ln, true}, nil
		case "false", "False":
			return &constExpr{ln, false}, nil
		case "none", "None":
			return &constExpr{ln, nil}, nil
		}
		for _, m := range p.refs {
			m[t.val] = true
		}
		return &nameExpr{ln, t.val}, nil
	case tokString:
		p.next()
		s := t.val
		for p.cur().kind == tokString {
			s += p.next().val
		}
		return &constExpr{ln, s}, nil
	case tokInt:
		p.next()
		return &constExpr{ln, t.ival}, nil
	case tokFloat:
		p.next()
		return &constExpr{ln, t.fval}, nil
	case tokOp:
		switch t.val {
		case "(":
			p.next()
			x, err := p.parseParenTuple()
			if err != nil {
				return nil, err
			}
			return x, p.expectOp(")")
		case "[":
			p.next()
			items, err := p.parseExprList("]")
			if err != nil {
				return nil, err
			}
			return &listExpr{ln, items, false}, nil
		case "{":
			p.next()
			d := &dictExpr{line: ln}
			for !p.isOp("}") {
				if len(d.keys) > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
					if p.isOp("}") {
						break
					}
				}
				k, err := p.parseExpression(true)
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := p.parseExpression(true)
				if err != nil {
					return nil, err
				}
				d.keys = append(d.keys, k)
				d.vals = append(d.vals, v)
			}
			p.next()
			return d, nil
		}
	}
	return nil, p.errorf(t.line, "unexpected %s", t)
}

// parseParenTuple parses what follows "(": an expression, or a tuple.
func (p *parser) parseParenTuple() (expr, error) {
	ln := p.cur().line
	if p.isOp(")") {
		return &listExpr{line(ln), nil, true}, nil
	}
	x, err := p.parseExpression(true)
	if err != nil {
		return nil, err
	}
	if !p.isOp(",") {
		return x, nil
	}
	items := []expr{x}
	for p.skipOp(",") {
		if p.isOp(")") {
			break
		}
		y, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		items = append(items, y)
	}
	return &listExpr{line(ln), items, true}, nil
}

func (p *parser) parseExprList(end string) ([]expr, error) {
	var items []expr
	for !p.isOp(end) {
		if len(items) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp(end) {
				break
			}
		}
		x, err := p.parseExpression(true)
		if err != nil {
			return nil, err
		}
		items = append(items, x)
	}
	p.next()
	return items, nil
}

func (p *parser) parsePostfix(x expr) (expr, error) {
	for {
		t := p.cur()
		if t.kind != tokOp {
			return x, nil
		}
		var err error
		switch t.val {
		case ".":
			p.next()
			a := p.next()
			switch a.kind {
			case tokName:
				x = &attrExpr{line(t.line), x, a.val}
			case tokInt:
				x = &itemExpr{line(t.line), x, &constExpr{line(a.line), a.ival}}
			default:
				return nil, p.errorf(a.line, "expected an attribute name after '.', got %s", a)
			}
		case "[":
			p.next()
			if x, err = p.parseSubscript(x, line(t.line)); err != nil {
				return nil, err
			}
		case "(":
			if x, err = p.parseCall(x); err != nil {
				return nil, err
			}
		default:
			return x, nil
		}
	}
}

func (p *parser) parseSubscript(obj expr, ln line) (expr, error) {
	var parts [3]expr
	n := 0
	isSlice := false
	for {
		if !p.isOp(":") && !p.isOp("]") {
			x, err := p.parseExpression(true)
			if err != nil {
				return nil, err
			}
			parts[n] = x
		}
		if p.isOp(":") {
			if n == 2 {
				return nil, p.errorf(p.cur().line, "too many ':' in slice")
			}
			isSlice = true
			p.next()
			n++
			continue
		}
		break
	}
	if err := p.expectOp("]"); err != nil {
		return nil, err
	}
	if !isSlice {
		if parts[0] == nil {
			return nil, p.errorf(int(ln), "empty subscript")
		}
		return &itemExpr{ln, obj, parts[0]}, nil
	}
	return &sliceExpr{line: ln, obj: obj, start: parts[0], stop: parts[1], step: parts[2]}, nil
}

func (p *parser) parseCallArgs() ([]expr, []kwExpr, error) {
	if err := p.expectOp("("); err != nil {
		return nil, nil, err
	}
	var args []expr
	var kwargs []kwExpr
	first := true
	for !p.isOp(")") {
		if !first {
			if err := p.expectOp(","); err != nil {
				return nil, nil, err
			}
			if p.isOp(")") {
				break
			}
		}
		first = false
		if p.isOp("*") || p.isOp("**") {
			return nil, nil, p.errorf(p.cur().line, "*args and **kwargs in calls are not supported")
		}
		if p.cur().kind == tokName && p.peek().kind == tokOp && p.peek().val == "=" {
			name := p.next().val
			p.next()
			x, err := p.parseExpression(true)
			if err != nil {
				return nil, nil, err
			}
			kwargs = append(kwargs, kwExpr{name, x})
			continue
		}
		if len(kwargs) > 0 {
			return nil, nil, p.errorf(p.cur().line, "positional argument follows keyword argument")
		}
		x, err := p.parseExpression(true)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, x)
	}
	p.next()
	return args, kwargs, nil
}

func (p *parser) parseCall(fn expr) (expr, error) {
	ln := p.cur().line
	args, kwargs, err := p.parseCallArgs()
	if err != nil {
		return nil, err
	}
	return &callExpr{line(ln), fn, args, kwargs}, nil
}

func (p *parser) parseFilterExpr(x expr) (expr, error) {
	for {
		var err error
		switch {
		case p.isOp("|"):
			p.next()
			if x, err = p.parseFilter(x); err != nil {
				return nil, err
			}
		case p.isName("is"):
			p.next()
			if x, err = p.parseTest(x); err != nil {
				return nil, err
			}
		case p.isOp("("):
			if x, err = p.parseCall(x); err != nil {
				return nil, err
			}
		default:
			return x, nil
		}
	}
}

func (p *parser) dottedName() (string, error) {
	name, err := p.expectName()
	if err != nil {
		return "", err
	}
	for p.isOp(".") && p.peek().kind == tokName {
		p.next()
		name += "." + p.next().val
	}
	return name, nil
}

func (p *parser) parseFilter(obj expr) (*filterExpr, error) {
	ln := p.cur().line
	name, err := p.dottedName()
	if err != nil {
		return nil, err
	}
	f := &filterExpr{line: line(ln), obj: obj, name: name}
	p.uses = append(p.uses, nameUse{name: name, line: ln, soft: p.soft})
	if p.isOp("(") {
		if f.args, f.kwargs, err = p.parseCallArgs(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (p *parser) parseTest(obj expr) (expr, error) {
	ln := p.cur().line
	negate := p.skipName("not")
	name, err := p.dottedName()
	if err != nil {
		return nil, err
	}
	t := &testExpr{line: line(ln), obj: obj, name: name, negate: negate}
	p.uses = append(p.uses, nameUse{test: true, name: name, line: ln, soft: p.soft})
	cur := p.cur()
	switch {
	case p.isOp("("):
		if t.args, t.kwargs, err = p.parseCallArgs(); err != nil {
			return nil, err
		}
	case (cur.kind == tokName || cur.kind == tokString || cur.kind == tokInt || cur.kind == tokFloat || p.isOp("[") || p.isOp("{")) &&
		!(cur.kind == tokName && (cur.val == "else" || cur.val == "or" || cur.val == "and")):
		if cur.kind == tokName && cur.val == "is" {
			return nil, p.errorf(cur.line, "you cannot chain multiple tests with 'is'")
		}
		arg, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		if arg, err = p.parsePostfix(arg); err != nil {
			return nil, err
		}
		t.args = []expr{arg}
	}
	return t, nil
}

// contextFilters need the render context in jinja2, so expressions using
// them are never folded at compile time.
var contextFilters = map[string]bool{"map": true, "select": true, "reject": true, "selectattr": true, "rejectattr": true}

// linkSlices records on every slice in the template its enclosing
// expressions, for renderer.folds.
func linkSlices(body []node) {
	walkNodes(body, func(x expr, output bool) {
		var path []expr
		var visit func(e expr)
		visit = func(e expr) {
			if e == nil {
				return
			}
			if sl, ok := e.(*sliceExpr); ok {
				sl.ancestors = make([]expr, len(path))
				for i := range path {
					sl.ancestors[i] = path[len(path)-1-i]
				}
				sl.inOutput = output
			}
			path = append(path, e)
			forChildren(e, visit)
			path = path[:len(path)-1]
		}
		visit(x)
	})
}

// walkNodes calls f on every statement-level expression in body.
func walkNodes(body []node, f func(x expr, output bool)) {
	filters := func(fs []*filterExpr) {
		for _, fe := range fs {
			for _, a := range fe.args {
				f(a, false)
			}
			for _, k := range fe.kwargs {
				f(k.x, false)
			}
		}
	}
	macro := func(d *macroDef) {
		for _, p := range d.params {
			if p.def != nil {
				f(p.def, false)
			}
		}
		walkNodes(d.body, f)
	}
	for _, n := range body {
		switch n := n.(type) {
		case *outputNode:
			f(n.x, true)
		case *ifNode:
			for i, c := range n.conds {
				f(c, false)
				walkNodes(n.bodies[i], f)
			}
			walkNodes(n.els, f)
		case *forNode:
			f(n.iter, false)
			if n.cond != nil {
				f(n.cond, false)
			}
			walkNodes(n.body, f)
			walkNodes(n.els, f)
		case *setNode:
			f(n.value, false)
		case *setBlockNode:
			filters(n.filters)
			walkNodes(n.body, f)
		case *macroNode:
			macro(n.def)
		case *callBlockNode:
			f(n.call, false)
			macro(n.caller)
		case *filterBlockNode:
			filters(n.filters)
			walkNodes(n.body, f)
		case *withNode:
			for _, v := range n.values {
				f(v, false)
			}
			walkNodes(n.body, f)
		}
	}
}

// forChildren calls f on each direct subexpression of x.
func forChildren(x expr, f func(expr)) {
	each := func(xs []expr) {
		for _, e := range xs {
			if e != nil {
				f(e)
			}
		}
	}
	kws := func(ks []kwExpr) {
		for _, k := range ks {
			f(k.x)
		}
	}
	switch e := x.(type) {
	case *listExpr:
		each(e.items)
	case *dictExpr:
		each(e.keys)
		each(e.vals)
	case *attrExpr:
		f(e.obj)
	case *itemExpr:
		each([]expr{e.obj, e.index})
	case *sliceExpr:
		each([]expr{e.obj, e.start, e.stop, e.step})
	case *callExpr:
		f(e.fn)
		each(e.args)
		kws(e.kwargs)
	case *filterExpr:
		if e.obj != nil {
			f(e.obj)
		}
		each(e.args)
		kws(e.kwargs)
	case *testExpr:
		f(e.obj)
		each(e.args)
		kws(e.kwargs)
	case *unaryExpr:
		f(e.x)
	case *binExpr:
		each([]expr{e.l, e.r})
	case *andExpr:
		each([]expr{e.l, e.r})
	case *orExpr:
		each([]expr{e.l, e.r})
	case *notExpr:
		f(e.x)
	case *compareExpr:
		f(e.first)
		each(e.rest)
	case *condExpr:
		each([]expr{e.test, e.then, e.els})
	}
}
