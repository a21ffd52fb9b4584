// Package ext is what a market's node-side HTTP extension may use of the
// node it runs in (the data market's gateway). It sits beside the API types,
// not in node, so that market packages and their clients do not import
// package node, which imports them.
package ext

import (
	"net/http"

	"github.com/tenun-chain/tenun/chain/store"
)

// Host is the node as an HTTP extension sees it.
type Host interface {
	ChainID() string
	// Snapshot is the last committed state and its height.
	Snapshot() (store.KV, int64, error)
	// Blob returns a blob's content from the node's store, integrity-checked.
	Blob(cid string) ([]byte, error)
	// Dir is a directory on the node's disk for the named extension's own
	// files (caches), created if need be.
	Dir(name string) (string, error)
}

// HTTPExtension serves routes on the node, outside consensus (e.g.
// data/gateway); node.HTTPExtensions lists them.
type HTTPExtension interface {
	RegisterHTTP(mux *http.ServeMux, host Host)
}
