package store

import (
	"fmt"

	dbm "github.com/cosmos/cosmos-db"
)

// Database backends of the durable state (config.toml's db_backend, which
// also selects CometBFT's stores; see node/dbbackend.go).
const (
	BackendGoLevelDB = "goleveldb"
	BackendPebble    = "pebbledb"
)

// DefaultBackend is the backend a new home gets. goleveldb stays the
// default until `tenun bench tx --db goleveldb,pebbledb` measures Pebble at
// least as fast on this workload.
const DefaultBackend = BackendGoLevelDB

// Backends lists the selectable backends.
var Backends = []string{BackendGoLevelDB, BackendPebble}

// CheckBackend refuses a name that is not one of Backends.
func CheckBackend(name string) error {
	for _, b := range Backends {
		if name == b {
			return nil
		}
	}
	return fmt.Errorf("db_backend %q: want %q or %q", name, BackendGoLevelDB, BackendPebble)
}

// OpenDB opens (or creates) the database name in dir with backend.
func OpenDB(name, dir, backend string) (dbm.DB, error) {
	switch backend {
	case BackendGoLevelDB:
		return dbm.NewGoLevelDB(name, dir, nil)
	case BackendPebble:
		return dbm.NewPebbleDB(name, dir, nil)
	}
	return nil, CheckBackend(backend)
}
