// Package pkggraph draws the module's package graph for
// docs/ARCHITECTURE.md: packages grouped by layer, an arrow for each import
// that is not already implied by a longer path (the transitive reduction),
// so the drawing stays readable and every arrow is a real dependency. The
// drawing is Mermaid, which renders on GitHub and reads as a plain edge list
// elsewhere. A test in internal/determinism regenerates it and compares.
package pkggraph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
)

// Package is one package of the module and the module packages it imports
// (non-test imports; tests do not shape the build).
type Package struct {
	Path    string // relative to the module: "chain/store"; "." for the root
	Imports []string
}

// List runs `go list` in dir for the packages matching patterns and returns
// those of module with their imports inside module, sorted by path.
func List(dir, module string, patterns ...string) ([]Package, error) {
	args := append([]string{"list", "-e", "-json=ImportPath,Imports", "--"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go list %v: %v\n%s", patterns, err, stderr.String())
	}
	var out []Package
	dec := json.NewDecoder(&stdout)
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		rel, ok := relative(module, p.ImportPath)
		if !ok {
			continue
		}
		pkg := Package{Path: rel}
		for _, imp := range p.Imports {
			if r, ok := relative(module, imp); ok {
				pkg.Imports = append(pkg.Imports, r)
			}
		}
		sort.Strings(pkg.Imports)
		out = append(out, pkg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func relative(module, path string) (string, bool) {
	if path == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// Reduce drops every import that another import of the same package already
// reaches (a -> c when a -> b -> c), keeping the reachability of the graph.
// Imports of packages outside pkgs are kept as they are.
func Reduce(pkgs []Package) []Package {
	imports := map[string][]string{}
	for _, p := range pkgs {
		imports[p.Path] = p.Imports
	}
	reach := map[string]map[string]bool{} // memoised: every package reachable from a key
	var reachable func(string) map[string]bool
	reachable = func(from string) map[string]bool {
		if r, ok := reach[from]; ok {
			return r
		}
		r := map[string]bool{}
		reach[from] = r // Go forbids import cycles; this only guards against bad input
		for _, to := range imports[from] {
			r[to] = true
			for k := range reachable(to) {
				r[k] = true
			}
		}
		return r
	}
	out := make([]Package, len(pkgs))
	for i, p := range pkgs {
		out[i] = Package{Path: p.Path}
		for _, to := range p.Imports {
			implied := false
			for _, via := range p.Imports {
				if via != to && reachable(via)[to] {
					implied = true
					break
				}
			}
			if !implied {
				out[i].Imports = append(out[i].Imports, to)
			}
		}
	}
	return out
}

// Layer is a group of the drawing.
type Layer struct {
	Name     string
	Packages []string
}

// Group puts each package into the first layer whose rule claims it (layerOf
// returns the layer's name) and returns the layers in order, empty ones left
// out. A name layerOf returns that is not in order comes last.
func Group(pkgs []Package, order []string, layerOf func(path string) string) []Layer {
	byName := map[string]*Layer{}
	var layers []*Layer
	add := func(name string) *Layer {
		if l, ok := byName[name]; ok {
			return l
		}
		l := &Layer{Name: name}
		byName[name] = l
		layers = append(layers, l)
		return l
	}
	for _, name := range order {
		add(name)
	}
	for _, p := range pkgs {
		l := add(layerOf(p.Path))
		l.Packages = append(l.Packages, p.Path)
	}
	var out []Layer
	for _, l := range layers {
		if len(l.Packages) > 0 {
			sort.Strings(l.Packages)
			out = append(out, *l)
		}
	}
	return out
}

// Mermaid renders the layers as subgraphs and the imports as arrows
// ("a --> b": a imports b), in a stable order.
func Mermaid(layers []Layer, pkgs []Package) string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	for i, l := range layers {
		fmt.Fprintf(&b, "  subgraph L%d [\"%s\"]\n", i, l.Name)
		for _, p := range l.Packages {
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", nodeID(p), p)
		}
		b.WriteString("  end\n")
	}
	for _, p := range pkgs {
		for _, to := range p.Imports {
			fmt.Fprintf(&b, "  %s --> %s\n", nodeID(p.Path), nodeID(to))
		}
	}
	return b.String()
}

// nodeID is a Mermaid identifier for a package path.
func nodeID(path string) string {
	if path == "." {
		return "root"
	}
	return strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(path)
}

// Splice replaces what lies between the lines begin and end in doc with
// body, the markers kept. It fails when a marker is missing.
func Splice(doc, begin, end, body string) (string, error) {
	i := strings.Index(doc, begin+"\n")
	if i < 0 {
		return "", fmt.Errorf("marker %q not found", begin)
	}
	start := i + len(begin) + 1
	j := strings.Index(doc[start:], end)
	if j < 0 {
		return "", fmt.Errorf("marker %q not found after %q", end, begin)
	}
	return doc[:start] + body + doc[start+j:], nil
}
