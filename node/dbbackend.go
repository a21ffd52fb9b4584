package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	cmtdb "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	cosmosdb "github.com/cosmos/cosmos-db"

	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/internal/atomicfile"
)

// config.toml's db_backend selects one backend for the app state (data/app)
// and for CometBFT's stores (blockstore, state, tx_index, evidence):
// "goleveldb" or "pebbledb". cometbft-db compiles Pebble only behind a build
// tag; rather than making every build carry it, CometBFT's Pebble stores are
// cosmos-db's Pebble (the one IAVL already links, pure Go) seen through
// cometbft-db's interface (cometPebble).

// dbBackendFile records, in data/, the backend the node's databases were
// created with: the two write different files into the same *.db folders,
// and opening one's with the other must be refused, not attempted.
func dbBackendFile(ccfg *cfg.Config) string { return filepath.Join(ccfg.DBDir(), "db_backend") }

// checkDBBackend returns the backend config.toml names, after checking it
// is the one the data was created with. A data folder from before the
// marker (it already holds databases) was goleveldb, the only backend then.
func checkDBBackend(ccfg *cfg.Config) (string, error) {
	want := ccfg.DBBackend
	if err := store.CheckBackend(want); err != nil {
		return "", fmt.Errorf("config.toml: %w", err)
	}
	path := dbBackendFile(ccfg)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if have := strings.TrimSpace(string(b)); have != want {
			return "", fmt.Errorf("config.toml says db_backend = %q but %s was created with %q: set it back, or start the node afresh", want, ccfg.DBDir(), have)
		}
		return want, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := os.Stat(filepath.Join(ccfg.DBDir(), "blockstore.db")); err == nil && want != store.BackendGoLevelDB {
		return "", fmt.Errorf("config.toml says db_backend = %q but %s holds goleveldb stores from before db_backend was honoured", want, ccfg.DBDir())
	}
	if err := os.MkdirAll(ccfg.DBDir(), 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", ccfg.DBDir(), err)
	}
	if err := atomicfile.WriteFile(path, []byte(want+"\n"), 0o644); err != nil {
		return "", err
	}
	return want, nil
}

// DBProvider opens CometBFT's stores with config.toml's db_backend.
func DBProvider(ctx *cfg.DBContext) (cmtdb.DB, error) { return (&openDBs{}).provide(ctx) }

// TrackedDBProvider is DBProvider for a node that will be stopped and
// started again in this process: closeAll, called after CometBFT's Stop,
// closes the Pebble stores Stop leaves open.
func TrackedDBProvider() (provide func(*cfg.DBContext) (cmtdb.DB, error), closeAll func() error) {
	o := &openDBs{}
	return o.provide, o.closeAll
}

// openDBs remembers the Pebble stores a node opened: CometBFT's Stop
// closes its block and state stores but not the tx index, and Pebble, unlike
// goleveldb, refuses a second open of a folder in the same process (tests
// and benchmarks restart nodes in-process).
type openDBs struct {
	mu  sync.Mutex
	dbs []*cometPebble
}

func (o *openDBs) provide(ctx *cfg.DBContext) (cmtdb.DB, error) {
	if ctx.Config.DBBackend != store.BackendPebble {
		return cfg.DefaultDBProvider(ctx)
	}
	db, err := cosmosdb.NewPebbleDB(ctx.ID, ctx.Config.DBDir(), nil)
	if err != nil {
		return nil, fmt.Errorf("open pebble %s in %s: %w", ctx.ID, ctx.Config.DBDir(), err)
	}
	d := &cometPebble{PebbleDB: db.(*cosmosdb.PebbleDB)}
	o.mu.Lock()
	o.dbs = append(o.dbs, d)
	o.mu.Unlock()
	return d, nil
}

// closeAll closes every store still open.
func (o *openDBs) closeAll() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var errs []error
	for _, d := range o.dbs {
		errs = append(errs, d.Close())
	}
	o.dbs = nil
	return errors.Join(errs...)
}

// cometPebble is cosmos-db's Pebble database as a cometbft-db database:
// the two interfaces are the same but for their batch and iterator types'
// names and Compact. Close may be called twice (pebble panics on that).
type cometPebble struct {
	*cosmosdb.PebbleDB
	once sync.Once
	err  error
}

var _ cmtdb.DB = (*cometPebble)(nil)

func (d *cometPebble) Close() error {
	d.once.Do(func() { d.err = d.PebbleDB.Close() })
	return d.err
}

func (d *cometPebble) Iterator(start, end []byte) (cmtdb.Iterator, error) {
	return d.PebbleDB.Iterator(start, end)
}

func (d *cometPebble) ReverseIterator(start, end []byte) (cmtdb.Iterator, error) {
	return d.PebbleDB.ReverseIterator(start, end)
}

func (d *cometPebble) NewBatch() cmtdb.Batch { return d.PebbleDB.NewBatch() }

func (d *cometPebble) Compact(start, end []byte) error {
	return d.PebbleDB.DB().Compact(start, end, true)
}
