package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Operators. Each names one kind of injected fault.
const (
	OpCmpNegate   = "cmp-negate"   // == <-> !=, < <-> >=, > <-> <=
	OpCmpBoundary = "cmp-boundary" // < <-> <=, > <-> >=
	OpLogical     = "logical"      // && <-> ||
	OpIfNegate    = "if-negate"    // if c  ->  if !c
	OpReturnBool  = "return-bool"  // return b  ->  return !b (bool results)
	OpBranch      = "branch-drop"  // continue / break removed
	OpConst       = "const"        // integer literal 0 <-> 1
)

// AllOps lists every operator, in report order.
var AllOps = []string{OpCmpNegate, OpCmpBoundary, OpLogical, OpIfNegate, OpReturnBool, OpBranch, OpConst}

// Mutant is one injected fault. ID is its number in this run's schemata
// (positional, not stable); Key is stable across runs as long as the
// mutated function keeps the same expression, whatever the line numbers.
type Mutant struct {
	ID   int    `json:"-"`
	Key  string `json:"key"`
	Pkg  string `json:"-"` // package directory relative to the module root ("." or "teamhttp")
	File string `json:"-"` // file relative to the module root
	Line int    `json:"-"`
	Col  int    `json:"-"`
	Func string `json:"-"`
	Op   string `json:"-"`
	Desc string `json:"-"` // "a < b  ->  a <= b"
}

// Pos is file:line:col.
func (m *Mutant) Pos() string { return fmt.Sprintf("%s:%d:%d", m.File, m.Line, m.Col) }

// listedPkg is the part of `go list -json` output the tool reads.
type listedPkg struct {
	ImportPath string
	Name       string
	Dir        string
	Export     string
	GoFiles    []string
	DepOnly    bool
}

// goList runs go list -export -deps over pkgs from dir.
func goList(dir string, pkgs []string) (map[string]*listedPkg, []*listedPkg, error) {
	args := append([]string{"list", "-e", "-export", "-deps", "-json=ImportPath,Name,Dir,Export,GoFiles,DepOnly"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go list: %v\n%s", err, stderr.Bytes())
	}
	byPath := map[string]*listedPkg{}
	var roots []*listedPkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listedPkg)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, err
		}
		byPath[p.ImportPath] = p
		if !p.DepOnly {
			roots = append(roots, p)
		}
	}
	return byPath, roots, nil
}

// target is one package to mutate, with the files of it that are mutated.
type target struct {
	rel     string // directory relative to the module root
	pkg     *listedPkg
	fset    *token.FileSet
	files   map[string]*ast.File // by base name, all non-test files
	srcs    map[string][]byte
	info    *types.Info
	tpkg    *types.Package
	mutated []string // base names of the files to mutate
}

// loadTarget parses and type-checks a package's non-test files.
func loadTarget(root string, p *listedPkg, byPath map[string]*listedPkg) (*target, error) {
	rel, err := filepath.Rel(root, p.Dir)
	if err != nil {
		return nil, err
	}
	t := &target{rel: filepath.ToSlash(rel), pkg: p, fset: token.NewFileSet(), files: map[string]*ast.File{}, srcs: map[string][]byte{}}
	var files []*ast.File
	for _, name := range p.GoFiles {
		src, err := os.ReadFile(filepath.Join(p.Dir, name))
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(t.fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		t.files[name] = f
		t.srcs[name] = src
		files = append(files, f)
	}
	lookup := func(path string) (io.ReadCloser, error) {
		q, ok := byPath[path]
		if !ok || q.Export == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(q.Export)
	}
	conf := types.Config{Importer: importer.ForCompiler(t.fset, "gc", lookup)}
	t.info = &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Defs:  map[*ast.Ident]types.Object{},
		Uses:  map[*ast.Ident]types.Object{},
	}
	t.tpkg, err = conf.Check(p.ImportPath, t.fset, files, t.info)
	if err != nil {
		return nil, fmt.Errorf("type-checking %s: %v", p.ImportPath, err)
	}
	return t, nil
}

// point is a place in a file where the schema replaces source text. Points
// nest like the syntax tree; a point renders its replacement from the
// rendered text of its operands (so nested mutants survive duplication).
type point struct {
	start, end int
	prio       int // among equal spans, lower is outer
	children   []*point
	render     func(sub func(a, b int) string) string
}

// helper names in the generated code; checked for collisions.
const (
	hOn    = "mutateOn_"
	hIn    = "mutateIn_"
	hConst = "mutateConst_"
	hVar   = "mutateActive_"
)

// EnvVar selects the active mutant in a test binary built with the schema.
const EnvVar = "TEAMPERM_MUTANT"

// helperFile is added to each mutated package by the overlay.
func helperFile(pkgName string) []byte {
	return []byte(`// Code generated by tools/mutate. DO NOT EDIT.

package ` + pkgName + `

import (
	"os"
	"strconv"
)

var ` + hVar + ` = func() int { n, _ := strconv.Atoi(os.Getenv("` + EnvVar + `")); return n }()

func ` + hOn + `(id int) bool { return ` + hVar + ` == id }

func ` + hIn + `(lo, hi int) bool { return lo <= ` + hVar + ` && ` + hVar + ` <= hi }

func ` + hConst + `[T any](id int, orig, mut T) T {
	if ` + hVar + ` == id {
		return mut
	}
	return orig
}
`)
}

// discover finds the mutants of t's mutated files, numbering them from
// next, and returns them with each file's schema source.
func (t *target) discover(next int, ops map[string]bool) ([]*Mutant, map[string][]byte, error) {
	for _, h := range []string{hOn, hIn, hConst, hVar} {
		if t.tpkg.Scope().Lookup(h) != nil {
			return nil, nil, fmt.Errorf("%s: package declares %s", t.rel, h)
		}
	}
	var all []*Mutant
	schemas := map[string][]byte{}
	for _, name := range t.mutated {
		f, ok := t.files[name]
		if !ok {
			return nil, nil, fmt.Errorf("%s: no file %s in package %s", t.rel, name, t.pkg.ImportPath)
		}
		d := &discoverer{t: t, name: name, src: t.srcs[name], file: t.fset.File(f.Pos()), ops: ops, next: next, seen: map[string]int{}}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			d.fn = funcName(fd)
			sig, _ := t.info.Defs[fd.Name].Type().(*types.Signature)
			d.sigs = []*types.Signature{sig}
			d.walkBlock(fd.Body)
		}
		next = d.next
		all = append(all, d.muts...)
		schemas[name] = []byte(renderFile(d.src, d.points))
	}
	return all, schemas, nil
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	typ := fd.Recv.List[0].Type
	star := ""
	if s, ok := typ.(*ast.StarExpr); ok {
		star, typ = "*", s.X
	}
	switch x := typ.(type) {
	case *ast.IndexExpr:
		typ = x.X
	case *ast.IndexListExpr:
		typ = x.X
	}
	id, _ := typ.(*ast.Ident)
	name := "?"
	if id != nil {
		name = id.Name
	}
	if star != "" {
		return "(" + star + name + ")." + fd.Name.Name
	}
	return name + "." + fd.Name.Name
}

type discoverer struct {
	t      *target
	name   string
	src    []byte
	file   *token.File
	ops    map[string]bool
	fn     string
	sigs   []*types.Signature // innermost last
	next   int
	muts   []*Mutant
	points []*point
	seen   map[string]int
}

func (d *discoverer) off(p token.Pos) int { return d.file.Offset(p) }

func (d *discoverer) text(n ast.Node) string {
	return string(d.src[d.off(n.Pos()):d.off(n.End())])
}

func squash(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 72 {
		s = s[:69] + "..."
	}
	return s
}

// add records a mutant and returns its ID.
func (d *discoverer) add(n ast.Node, op, orig, mut string) int {
	desc := squash(orig) + "  ->  " + squash(mut)
	base := d.t.relFile(d.name) + "|" + d.fn + "|" + op + "|" + desc
	d.seen[base]++
	pos := d.file.Position(n.Pos())
	m := &Mutant{
		ID: d.next, Key: fmt.Sprintf("%s|%d", base, d.seen[base]),
		Pkg: d.t.rel, File: d.t.relFile(d.name), Line: pos.Line, Col: pos.Column,
		Func: d.fn, Op: op, Desc: desc,
	}
	d.next++
	d.muts = append(d.muts, m)
	return m.ID
}

func (t *target) relFile(name string) string {
	if t.rel == "." || t.rel == "" {
		return name
	}
	return t.rel + "/" + name
}

func (d *discoverer) isBool(e ast.Expr) bool {
	tv, ok := d.t.info.Types[e]
	if !ok || tv.Type == nil {
		return false
	}
	b, ok := tv.Type.(*types.Basic)
	return ok && (b.Kind() == types.Bool || b.Kind() == types.UntypedBool)
}

func (d *discoverer) walkBlock(b *ast.BlockStmt) {
	ast.Inspect(b, d.visit)
}

var negated = map[token.Token]token.Token{
	token.EQL: token.NEQ, token.NEQ: token.EQL,
	token.LSS: token.GEQ, token.GEQ: token.LSS,
	token.GTR: token.LEQ, token.LEQ: token.GTR,
}

var boundary = map[token.Token]token.Token{
	token.LSS: token.LEQ, token.LEQ: token.LSS,
	token.GTR: token.GEQ, token.GEQ: token.GTR,
}

func (d *discoverer) visit(n ast.Node) bool {
	switch n := n.(type) {
	case nil:
		return false
	case *ast.GenDecl:
		// Constant declarations need constant expressions.
		return n.Tok != token.CONST
	case *ast.ArrayType:
		return false // array lengths are constants
	case *ast.CompositeLit:
		// Keys of array and slice literals are constants: walk values only.
		if n.Type != nil {
			ast.Inspect(n.Type, d.visit)
		}
		for _, e := range n.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				ast.Inspect(kv.Value, d.visit)
			} else {
				ast.Inspect(e, d.visit)
			}
		}
		return false
	case *ast.FuncLit:
		sig, _ := d.t.info.Types[n].Type.(*types.Signature)
		d.sigs = append(d.sigs, sig)
		ast.Inspect(n.Body, d.visit)
		d.sigs = d.sigs[:len(d.sigs)-1]
		return false
	case *ast.IfStmt:
		if d.ops[OpIfNegate] && d.isBool(n.Cond) {
			cond := n.Cond
			id := d.add(n, OpIfNegate, d.text(cond), "!("+d.text(cond)+")")
			a, b := d.off(cond.Pos()), d.off(cond.End())
			d.points = append(d.points, &point{start: a, end: b, prio: 0, render: func(sub func(a, b int) string) string {
				return fmt.Sprintf("bool(%s) != %s(%d)", sub(a, b), hOn, id)
			}})
		}
	case *ast.ReturnStmt:
		sig := d.sigs[len(d.sigs)-1]
		if d.ops[OpReturnBool] && sig != nil && len(n.Results) == sig.Results().Len() {
			for i, r := range n.Results {
				b, ok := sig.Results().At(i).Type().(*types.Basic)
				if !ok || b.Kind() != types.Bool {
					continue
				}
				id := d.add(r, OpReturnBool, "return "+d.text(r), "return !("+d.text(r)+")")
				a, e := d.off(r.Pos()), d.off(r.End())
				d.points = append(d.points, &point{start: a, end: e, prio: 0, render: func(sub func(a, b int) string) string {
					return fmt.Sprintf("bool(%s) != %s(%d)", sub(a, e), hOn, id)
				}})
			}
		}
	case *ast.BranchStmt:
		if d.ops[OpBranch] && (n.Tok == token.BREAK || n.Tok == token.CONTINUE) {
			id := d.add(n, OpBranch, d.text(n), "(removed)")
			a, e := d.off(n.Pos()), d.off(n.End())
			d.points = append(d.points, &point{start: a, end: e, prio: 0, render: func(sub func(a, b int) string) string {
				return fmt.Sprintf("if !%s(%d) { %s }", hOn, id, sub(a, e))
			}})
		}
	case *ast.BinaryExpr:
		d.binary(n)
	case *ast.BasicLit:
		d.constant(n)
	}
	return true
}

func (d *discoverer) binary(n *ast.BinaryExpr) {
	var alts []token.Token
	var opsOf []string
	switch n.Op {
	case token.LAND, token.LOR:
		if d.ops[OpLogical] {
			alt := token.LOR
			if n.Op == token.LOR {
				alt = token.LAND
			}
			alts, opsOf = append(alts, alt), append(opsOf, OpLogical)
		}
	case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
		if d.ops[OpCmpNegate] {
			alts, opsOf = append(alts, negated[n.Op]), append(opsOf, OpCmpNegate)
		}
		if b, ok := boundary[n.Op]; ok && d.ops[OpCmpBoundary] {
			alts, opsOf = append(alts, b), append(opsOf, OpCmpBoundary)
		}
	}
	if len(alts) == 0 || !d.isBool(n) {
		return
	}
	x, y := d.text(n.X), d.text(n.Y)
	ids := make([]int, len(alts))
	for i, alt := range alts {
		ids[i] = d.add(n, opsOf[i], x+" "+n.Op.String()+" "+y, x+" "+alt.String()+" "+y)
	}
	xa, xb, ya, yb := d.off(n.X.Pos()), d.off(n.X.End()), d.off(n.Y.Pos()), d.off(n.Y.End())
	op := n.Op
	d.points = append(d.points, &point{start: d.off(n.Pos()), end: d.off(n.End()), prio: 1, render: func(sub func(a, b int) string) string {
		sx, sy := sub(xa, xb), sub(ya, yb)
		var sb strings.Builder
		sb.WriteString("(")
		for i, alt := range alts {
			fmt.Fprintf(&sb, "%s(%d) && ((%s) %s (%s)) || ", hOn, ids[i], sx, alt, sy)
		}
		fmt.Fprintf(&sb, "!%s(%d, %d) && ((%s) %s (%s)))", hIn, ids[0], ids[len(ids)-1], sx, op, sy)
		return sb.String()
	}})
}

func (d *discoverer) constant(n *ast.BasicLit) {
	if !d.ops[OpConst] || n.Kind != token.INT || (n.Value != "0" && n.Value != "1") {
		return
	}
	tv, ok := d.t.info.Types[n]
	if !ok || tv.Type == nil {
		return
	}
	var typ string
	switch t := tv.Type.(type) {
	case *types.Basic:
		if t.Info()&types.IsUntyped != 0 || t.Info()&types.IsInteger == 0 {
			return
		}
		typ = t.Name()
	case *types.Named:
		obj := t.Obj()
		b, ok := t.Underlying().(*types.Basic)
		if obj.Pkg() != d.t.tpkg || obj.Parent() != d.t.tpkg.Scope() || !ok || b.Info()&types.IsInteger == 0 || t.TypeArgs().Len() > 0 {
			return
		}
		typ = obj.Name()
	default:
		return
	}
	mut := "1"
	if n.Value == "1" {
		mut = "0"
	}
	id := d.add(n, OpConst, n.Value, mut)
	d.points = append(d.points, &point{start: d.off(n.Pos()), end: d.off(n.End()), prio: 2, render: func(func(a, b int) string) string {
		return fmt.Sprintf("%s[%s](%d, %s, %s)", hConst, typ, id, n.Value, mut)
	}})
}

// renderFile applies the points to src.
func renderFile(src []byte, pts []*point) string {
	sort.SliceStable(pts, func(i, j int) bool {
		a, b := pts[i], pts[j]
		if a.start != b.start {
			return a.start < b.start
		}
		if a.end != b.end {
			return a.end > b.end
		}
		return a.prio < b.prio
	})
	var roots, stack []*point
	for _, p := range pts {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.start <= p.start && p.end <= top.end {
				break
			}
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			roots = append(roots, p)
		} else {
			top := stack[len(stack)-1]
			top.children = append(top.children, p)
		}
		stack = append(stack, p)
	}
	return renderRange(src, 0, len(src), roots)
}

func renderRange(src []byte, a, b int, pts []*point) string {
	var sb strings.Builder
	cur := a
	for _, p := range pts {
		if p.start < a || p.end > b || p.start < cur {
			continue
		}
		sb.Write(src[cur:p.start])
		children := p.children
		sb.WriteString(p.render(func(x, y int) string { return renderRange(src, x, y, children) }))
		cur = p.end
	}
	sb.Write(src[cur:b])
	return sb.String()
}

// sortMutants orders mutants by file, then position, then key.
func sortMutants(ms []*Mutant) {
	slices.SortStableFunc(ms, func(a, b *Mutant) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Col != b.Col {
			return a.Col - b.Col
		}
		return strings.Compare(a.Key, b.Key)
	})
}
