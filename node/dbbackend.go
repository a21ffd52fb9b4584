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

// openDBs remembers the stores a node opened: CometBFT's Stop closes its
// block and state stores but not the tx index, and Pebble, unlike
// goleveldb, refuses a second open of a folder in the same process (tests
// and benchmarks restart nodes in-process).
type openDBs struct {
	mu  sync.Mutex
	dbs []*shutdownSafe
}

func (o *openDBs) provide(ctx *cfg.DBContext) (cmtdb.DB, error) {
	var db cmtdb.DB
	if ctx.Config.DBBackend != store.BackendPebble {
		var err error
		if db, err = cfg.DefaultDBProvider(ctx); err != nil {
			return nil, err
		}
	} else {
		p, err := cosmosdb.NewPebbleDB(ctx.ID, ctx.Config.DBDir(), nil)
		if err != nil {
			return nil, fmt.Errorf("open pebble %s in %s: %w", ctx.ID, ctx.Config.DBDir(), err)
		}
		db = &cometPebble{PebbleDB: p.(*cosmosdb.PebbleDB)}
	}
	d := &shutdownSafe{DB: db}
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

// shutdownSafe answers reads after Close as "not found" rather than with an
// error: while a node of a network stops, CometBFT's consensus reactor may
// still ask the block store for a commit to send a peer
// (queryMaj23Routine), and the store panics on any read error. Nothing
// read then is used; writes after Close still fail. Close may be called
// twice (CometBFT's Stop, then closeAll).
type shutdownSafe struct {
	cmtdb.DB
	mu     sync.RWMutex
	closed bool
	err    error
}

var errStoreClosed = errors.New("store closed")

func (d *shutdownSafe) Get(k []byte) ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, nil
	}
	return d.DB.Get(k)
}

func (d *shutdownSafe) Has(k []byte) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false, nil
	}
	return d.DB.Has(k)
}

func (d *shutdownSafe) Set(k, v []byte) error { return d.write(func() error { return d.DB.Set(k, v) }) }
func (d *shutdownSafe) SetSync(k, v []byte) error {
	return d.write(func() error { return d.DB.SetSync(k, v) })
}
func (d *shutdownSafe) Delete(k []byte) error { return d.write(func() error { return d.DB.Delete(k) }) }
func (d *shutdownSafe) DeleteSync(k []byte) error {
	return d.write(func() error { return d.DB.DeleteSync(k) })
}

func (d *shutdownSafe) write(f func() error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errStoreClosed
	}
	return f()
}

func (d *shutdownSafe) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed, d.err = true, d.DB.Close()
	}
	return d.err
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
