package store

import (
	"fmt"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
)

// Tree is the durable state: one IAVL tree over a goleveldb or Pebble
// directory (see backend.go). Its root
// hash is the app hash, so every key in the state is committed each block.
// Storage errors panic: a node that cannot read its own state must stop, not
// guess.
type Tree struct {
	db   dbm.DB
	tree *iavl.MutableTree
}

// OpenTree opens (or creates) the tree in dir on goleveldb and loads the
// latest version. An empty dir opens in memory (tests).
func OpenTree(dir string) (*Tree, error) { return OpenTreeOn(dir, BackendGoLevelDB) }

// OpenTreeOn is OpenTree on the database backend named (see Backends).
func OpenTreeOn(dir, backend string) (*Tree, error) {
	var db dbm.DB
	if dir == "" {
		db = dbm.NewMemDB()
	} else {
		d, err := OpenDB("state", dir, backend)
		if err != nil {
			return nil, fmt.Errorf("open %s state db in %s: %w", backend, dir, err)
		}
		db = d
	}
	// Sync makes SaveVersion fsync, so a version reported committed survives
	// a SIGKILL or power loss.
	t := iavl.NewMutableTree(idb.NewWrapper(db), 100_000, true, iavl.NewNopLogger(), iavl.SyncOption(dir != ""))
	if _, err := t.Load(); err != nil {
		return nil, fmt.Errorf("load state tree: %w", err)
	}
	return &Tree{db: db, tree: t}, nil
}

func (t *Tree) Get(key []byte) []byte {
	v, err := t.tree.Get(key)
	if err != nil {
		panic(fmt.Errorf("state read %q: %w", key, err))
	}
	return v
}

func (t *Tree) Set(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	if _, err := t.tree.Set(key, value); err != nil {
		panic(fmt.Errorf("state write %q: %w", key, err))
	}
}

func (t *Tree) Delete(key []byte) {
	if _, _, err := t.tree.Remove(key); err != nil {
		panic(fmt.Errorf("state delete %q: %w", key, err))
	}
}

func (t *Tree) Iterate(prefix []byte, fn func(key, value []byte) bool) {
	iterate(func(start, end []byte) (dbm.Iterator, error) { return t.tree.Iterator(start, end, true) }, prefix, fn)
}

func iterate(open func(start, end []byte) (dbm.Iterator, error), prefix []byte, fn func(key, value []byte) bool) {
	it, err := open(prefix, PrefixEnd(prefix))
	if err != nil {
		panic(fmt.Errorf("state iterate %q: %w", prefix, err))
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			return
		}
	}
	if err := it.Error(); err != nil {
		panic(fmt.Errorf("state iterate %q: %w", prefix, err))
	}
}

// WorkingHash is the root hash including uncommitted writes: the app hash a
// block will commit to.
func (t *Tree) WorkingHash() []byte { return t.tree.WorkingHash() }

// Commit saves the working tree as a new version and returns its hash.
func (t *Tree) Commit() ([]byte, int64, error) {
	hash, version, err := t.tree.SaveVersion()
	if err != nil {
		return nil, 0, fmt.Errorf("save state version: %w", err)
	}
	return hash, version, nil
}

// Version is the last committed version (block height), 0 when empty.
func (t *Tree) Version() int64 { return t.tree.Version() }

// Hash is the root hash of the last committed version.
func (t *Tree) Hash() []byte { return t.tree.Hash() }

// Rollback drops uncommitted writes.
func (t *Tree) Rollback() { t.tree.Rollback() }

// Snapshot returns a read-only view of a committed version, safe to read
// while the working tree is written (API queries run on it).
func (t *Tree) Snapshot(version int64) (KV, error) {
	it, err := t.tree.GetImmutable(version)
	if err != nil {
		return nil, fmt.Errorf("state version %d: %w", version, err)
	}
	return readOnly{it}, nil
}

// Close releases the database.
func (t *Tree) Close() error { return t.db.Close() }

type readOnly struct{ t *iavl.ImmutableTree }

func (r readOnly) Get(key []byte) []byte {
	v, err := r.t.Get(key)
	if err != nil {
		panic(fmt.Errorf("state read %q: %w", key, err))
	}
	return v
}
func (r readOnly) Set(key, value []byte) { panic("store: write to a read-only snapshot") }
func (r readOnly) Delete(key []byte)     { panic("store: delete in a read-only snapshot") }
func (r readOnly) Iterate(prefix []byte, fn func(key, value []byte) bool) {
	iterate(func(start, end []byte) (dbm.Iterator, error) { return r.t.Iterator(start, end, true) }, prefix, fn)
}
