package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The client and the agents speak to the node over HTTP with the types of
// package api; they must not link the node (CometBFT, IAVL, the ABCI
// adapter). This fails as soon as one of them imports a node package.
func TestClientsDoNotLinkTheNode(t *testing.T) {
	const mod = "github.com/tenun-chain/tenun/"
	pkgs := []string{"./client/...", "./label/agent", "./data/agent", "./compute/agent", "./subnet/agent"}
	cmd := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	n := 0
	for _, p := range strings.Fields(string(out)) {
		n++
		if p == mod+"node" || strings.HasPrefix(p, mod+"node/") {
			t.Errorf("a client package depends on %s", p)
		}
	}
	if n < 10 {
		t.Fatalf("go list named only %d packages:\n%s", n, out)
	}
}
