package pkggraph

import (
	"reflect"
	"strings"
	"testing"
)

func TestReduceDropsImpliedImportsOnly(t *testing.T) {
	pkgs := []Package{
		{Path: "cli", Imports: []string{"chain", "chain/store", "node"}},
		{Path: "node", Imports: []string{"chain"}},
		{Path: "chain", Imports: []string{"chain/store"}},
		{Path: "chain/store"},
	}
	got := Reduce(pkgs)
	want := []Package{
		{Path: "cli", Imports: []string{"node"}},
		{Path: "node", Imports: []string{"chain"}},
		{Path: "chain", Imports: []string{"chain/store"}},
		{Path: "chain/store"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Reduce:\n got %v\nwant %v", got, want)
	}
}

func TestGroupKeepsLayerOrderAndDropsEmptyLayers(t *testing.T) {
	pkgs := []Package{{Path: "cli"}, {Path: "chain"}, {Path: "yuma"}}
	layerOf := func(p string) string {
		switch p {
		case "cli":
			return "Commands"
		case "chain":
			return "Consensus"
		}
		return "Other"
	}
	got := Group(pkgs, []string{"Commands", "Node", "Consensus"}, layerOf)
	want := []Layer{
		{Name: "Commands", Packages: []string{"cli"}},
		{Name: "Consensus", Packages: []string{"chain"}},
		{Name: "Other", Packages: []string{"yuma"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Group:\n got %v\nwant %v", got, want)
	}
}

func TestMermaidNamesEveryPackageAndArrow(t *testing.T) {
	pkgs := []Package{{Path: "chain", Imports: []string{"chain/store"}}, {Path: "chain/store"}}
	out := Mermaid([]Layer{{Name: "Consensus", Packages: []string{"chain", "chain/store"}}}, pkgs)
	for _, want := range []string{`subgraph L0 ["Consensus"]`, `chain_store["chain/store"]`, "chain --> chain_store"} {
		if !strings.Contains(out, want) {
			t.Errorf("Mermaid output lacks %q:\n%s", want, out)
		}
	}
}

func TestSpliceReplacesBetweenMarkers(t *testing.T) {
	doc := "intro\n<!-- begin -->\nold\n<!-- end -->\nrest\n"
	got, err := Splice(doc, "<!-- begin -->", "<!-- end -->", "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n<!-- begin -->\nnew\n<!-- end -->\nrest\n"; got != want {
		t.Fatalf("Splice = %q, want %q", got, want)
	}
	if _, err := Splice("no markers", "<!-- begin -->", "<!-- end -->", "x"); err == nil {
		t.Fatal("Splice without markers succeeded")
	}
}
