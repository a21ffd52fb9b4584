package store_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/tenun-chain/tenun/chain/store"
)

// model is the reference KV the real stores are checked against: a plain map
// whose iteration sorts its keys.
type model map[string][]byte

func (m model) iterate(prefix []byte, limit int) []kvPair {
	var keys []string
	for k := range m {
		if bytes.HasPrefix([]byte(k), prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []kvPair
	for _, k := range keys {
		if limit >= 0 && len(out) == limit {
			break
		}
		out = append(out, kvPair{k, string(m[k])})
	}
	return out
}

func (m model) clone() model {
	c := make(model, len(m))
	for k, v := range m {
		c[k] = append([]byte{}, v...)
	}
	return c
}

type kvPair struct{ K, V string }

// collect iterates kv under prefix, stopping after limit entries (all when
// limit is negative), and copies what it saw.
func collect(kv store.KV, prefix []byte, limit int) []kvPair {
	var out []kvPair
	kv.Iterate(prefix, func(k, v []byte) bool {
		if limit >= 0 && len(out) == limit {
			return false
		}
		out = append(out, kvPair{string(k), string(v)})
		return limit < 0 || len(out) < limit
	})
	return out
}

func dump(kv store.KV) []kvPair { return collect(kv, nil, -1) }

func equalPairs(a, b []kvPair) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Keys come from a small alphabet so that prefixes, overwrites and deletes of
// existing keys are frequent.
func randKey(r *rand.Rand) []byte {
	n := 1 + r.Intn(4)
	k := make([]byte, n)
	for i := range k {
		k[i] = "ab\x00\xff"[r.Intn(4)]
	}
	return k
}

func randValue(r *rand.Rand) []byte {
	v := make([]byte, 1+r.Intn(6))
	r.Read(v)
	return v
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{nil, nil},
		{[]byte{}, nil},
		{[]byte("a"), []byte("b")},
		{[]byte("ab"), []byte("ac")},
		{[]byte{'a', 0xff}, []byte("b")},
		{[]byte{0xff, 0xff}, nil},
		{[]byte{0x00}, []byte{0x01}},
	}
	for _, c := range cases {
		if got := store.PrefixEnd(c.in); !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
	}
	in := []byte("az")
	store.PrefixEnd(in)
	if string(in) != "az" {
		t.Errorf("PrefixEnd modified its argument: %q", in)
	}
}

func TestMemoryBasics(t *testing.T) {
	m := store.NewMemory()
	if m.Get([]byte("x")) != nil || store.Has(m, []byte("x")) {
		t.Fatal("empty memory has x")
	}
	val := []byte("v1")
	m.Set([]byte("x"), val)
	val[0] = 'z' // the store must have copied the value
	if got := m.Get([]byte("x")); string(got) != "v1" {
		t.Fatalf("Get(x) = %q, want v1", got)
	}
	m.Set([]byte("e"), nil)
	if !store.Has(m, []byte("e")) {
		t.Fatal("a key set to an empty value must be present")
	}
	m.Delete([]byte("x"))
	m.Delete([]byte("never"))
	if store.Has(m, []byte("x")) {
		t.Fatal("x still present after Delete")
	}
}

// TestCacheAgainstModel runs random operations on a stack of caches over a
// Memory and checks every read and every iteration against a reference map,
// then checks that writing the caches down gives the reference state.
func TestCacheAgainstModel(t *testing.T) {
	for seed := int64(1); seed <= 30; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			base := store.NewMemory()
			ref := model{}
			for i := 0; i < 40; i++ {
				k, v := randKey(r), randValue(r)
				base.Set(k, v)
				ref[string(k)] = v
			}
			// Three layers: base <- c1 <- c2. The model of each layer is what a
			// reader of that layer must see.
			c1 := store.NewCache(base)
			ref1 := ref.clone()
			c2 := store.NewCache(c1)
			ref2 := ref1.clone()
			over2 := map[string]bool{} // keys c2 buffers a write or delete of
			for op := 0; op < 400; op++ {
				top, refTop := store.KV(c2), ref2
				if r.Intn(3) == 0 {
					top, refTop = c1, ref1
				}
				switch r.Intn(6) {
				case 0, 1:
					k, v := randKey(r), randValue(r)
					top.Set(k, v)
					refTop[string(k)] = append([]byte{}, v...)
					if top == store.KV(c2) {
						over2[string(k)] = true
					} else if !over2[string(k)] {
						// c2 sees c1's write unless it overlays the key.
						ref2[string(k)] = append([]byte{}, v...)
					}
				case 2:
					k := randKey(r)
					top.Delete(k)
					delete(refTop, string(k))
					if top == store.KV(c2) {
						over2[string(k)] = true
					} else if !over2[string(k)] {
						delete(ref2, string(k))
					}
				case 3:
					k := randKey(r)
					got, want := top.Get(k), refTop[string(k)]
					if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
						t.Fatalf("op %d: Get(%x) = %x, want %x", op, k, got, want)
					}
				default:
					var prefix []byte
					if r.Intn(3) > 0 {
						k := randKey(r)
						prefix = k[:min(len(k), 1+r.Intn(2))]
					}
					limit := -1
					if r.Intn(2) == 0 {
						limit = r.Intn(5)
					}
					got, want := collect(top, prefix, limit), refTop.iterate(prefix, limit)
					if !equalPairs(got, want) {
						t.Fatalf("op %d: Iterate(%x, limit %d)\n got %q\nwant %q", op, prefix, limit, got, want)
					}
				}
			}
			c2.Write()
			if c2.Len() != 0 {
				t.Fatalf("c2 still buffers %d writes after Write", c2.Len())
			}
			if got, want := dump(c1), ref2.iterate(nil, -1); !equalPairs(got, want) {
				t.Fatalf("c1 after c2.Write\n got %q\nwant %q", got, want)
			}
			c1.Write()
			if got, want := dump(base), ref2.iterate(nil, -1); !equalPairs(got, want) {
				t.Fatalf("base after c1.Write\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestCacheDiscardAndLen(t *testing.T) {
	base := store.NewMemory()
	base.Set([]byte("a"), []byte("1"))
	c := store.NewCache(base)
	c.Set([]byte("a"), []byte("2"))
	c.Set([]byte("b"), []byte("3"))
	c.Delete([]byte("c"))
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3", c.Len())
	}
	c.Discard()
	if c.Len() != 0 || string(c.Get([]byte("a"))) != "1" || c.Get([]byte("b")) != nil {
		t.Fatal("Discard kept buffered writes")
	}
	c.Write()
	if got := dump(base); !equalPairs(got, []kvPair{{"a", "1"}}) {
		t.Fatalf("base changed by a discarded cache: %q", got)
	}
}

// An empty value is a present key (only nil means absent): a Cache must keep
// that distinction like Memory and Tree do.
func TestCacheEmptyValueIsPresent(t *testing.T) {
	base := store.NewMemory()
	c := store.NewCache(base)
	c.Set([]byte("k"), []byte{})
	if !store.Has(c, []byte("k")) {
		t.Fatal("cache: key set to an empty value reads as absent")
	}
	if got := collect(c, nil, -1); !equalPairs(got, []kvPair{{"k", ""}}) {
		t.Fatalf("cache iteration = %q, want the empty-valued key", got)
	}
	c.Write()
	if !store.Has(base, []byte("k")) {
		t.Fatal("writing an empty value through a cache deleted the key")
	}
}

func TestCacheIterateEarlyStopAndDeletes(t *testing.T) {
	base := store.NewMemory()
	for _, k := range []string{"p1", "p3", "p5", "q1"} {
		base.Set([]byte(k), []byte("base"))
	}
	c := store.NewCache(base)
	c.Set([]byte("p2"), []byte("own"))
	c.Delete([]byte("p3"))
	c.Set([]byte("p5"), []byte("over"))
	c.Set([]byte("p6"), []byte("own"))
	c.Delete([]byte("p7")) // delete of an absent key: invisible
	want := []kvPair{{"p1", "base"}, {"p2", "own"}, {"p5", "over"}, {"p6", "own"}}
	if got := collect(c, []byte("p"), -1); !equalPairs(got, want) {
		t.Fatalf("Iterate(p) = %q, want %q", got, want)
	}
	for n := 0; n <= len(want); n++ {
		if got := collect(c, []byte("p"), n); !equalPairs(got, want[:n]) {
			t.Fatalf("Iterate(p) stopping after %d = %q", n, got)
		}
	}
	// A stop requested on the cache's own trailing keys must be honoured too.
	calls := 0
	c.Iterate([]byte("p6"), func(k, v []byte) bool { calls++; return false })
	if calls != 1 {
		t.Fatalf("callback ran %d times after returning false", calls)
	}
}

func TestTreeMatchesMemory(t *testing.T) {
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	mem := store.NewMemory()
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 500; i++ {
		k := randKey(r)
		if r.Intn(4) == 0 {
			tree.Delete(k)
			mem.Delete(k)
			continue
		}
		v := randValue(r)
		tree.Set(k, v)
		mem.Set(k, v)
	}
	for _, p := range [][]byte{nil, []byte("a"), []byte("ab"), {0xff}, {0xff, 0xff}, {0x00}} {
		if got, want := collect(tree, p, -1), collect(mem, p, -1); !equalPairs(got, want) {
			t.Fatalf("Iterate(%x): tree %q, memory %q", p, got, want)
		}
	}
}

func TestTreeCommitReopen(t *testing.T) {
	dir := t.TempDir()
	tree, err := store.OpenTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Version() != 0 {
		t.Fatalf("new tree at version %d", tree.Version())
	}
	var hash []byte
	var version int64
	for v := 1; v <= 3; v++ {
		for i := 0; i < 20; i++ {
			tree.Set([]byte(fmt.Sprintf("k%02d", i*v%17)), []byte(fmt.Sprintf("v%d-%d", v, i)))
		}
		tree.Delete([]byte("k03"))
		working := tree.WorkingHash()
		if hash, version, err = tree.Commit(); err != nil {
			t.Fatal(err)
		}
		if version != int64(v) || !bytes.Equal(hash, working) || !bytes.Equal(tree.Hash(), hash) {
			t.Fatalf("commit %d: version %d, hash %x, working hash was %x", v, version, hash, working)
		}
	}
	before := dump(tree)
	// Uncommitted writes are not durable.
	tree.Set([]byte("uncommitted"), []byte("x"))
	if err := tree.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := store.OpenTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Version() != version || !bytes.Equal(again.Hash(), hash) || !bytes.Equal(again.WorkingHash(), hash) {
		t.Fatalf("reopened: version %d hash %x, want %d %x", again.Version(), again.Hash(), version, hash)
	}
	if got := dump(again); !equalPairs(got, before) {
		t.Fatalf("reopened state differs:\n got %q\nwant %q", got, before)
	}
}

func TestTreeRollback(t *testing.T) {
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	tree.Set([]byte("a"), []byte("1"))
	h, _, err := tree.Commit()
	if err != nil {
		t.Fatal(err)
	}
	tree.Set([]byte("b"), []byte("2"))
	tree.Delete([]byte("a"))
	if bytes.Equal(tree.WorkingHash(), h) {
		t.Fatal("working hash did not change with writes")
	}
	tree.Rollback()
	if !bytes.Equal(tree.WorkingHash(), h) || !equalPairs(dump(tree), []kvPair{{"a", "1"}}) {
		t.Fatal("rollback did not restore the committed state")
	}
}

func TestSnapshotReadsCommittedVersion(t *testing.T) {
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	tree.Set([]byte("a"), []byte("1"))
	tree.Set([]byte("b"), []byte("1"))
	if _, _, err := tree.Commit(); err != nil {
		t.Fatal(err)
	}
	snap, err := tree.Snapshot(1)
	if err != nil {
		t.Fatal(err)
	}
	want := []kvPair{{"a", "1"}, {"b", "1"}}
	// The working tree changes, uncommitted and then committed.
	tree.Set([]byte("a"), []byte("2"))
	tree.Delete([]byte("b"))
	tree.Set([]byte("c"), []byte("2"))
	if got := dump(snap); !equalPairs(got, want) {
		t.Fatalf("snapshot sees uncommitted writes: %q", got)
	}
	if _, _, err := tree.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := dump(snap); !equalPairs(got, want) {
		t.Fatalf("snapshot sees a later version: %q", got)
	}
	if string(snap.Get([]byte("a"))) != "1" || snap.Get([]byte("c")) != nil {
		t.Fatal("snapshot Get does not read version 1")
	}
	if _, err := tree.Snapshot(9); err == nil {
		t.Fatal("snapshot of a version that does not exist succeeded")
	}
	for name, write := range map[string]func(){
		"Set":    func() { snap.Set([]byte("x"), []byte("y")) },
		"Delete": func() { snap.Delete([]byte("a")) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("snapshot %s did not panic", name)
				}
			}()
			write()
		}()
	}
}

// Cache.Write applies writes in key order, so the app hash depends only on
// the set of writes, never on the order a transaction made them in.
func TestCacheWriteOrderIndependentHash(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	type op struct {
		k, v []byte // v nil: delete
	}
	// Distinct keys, so every order yields the same final contents.
	seen := map[string]bool{}
	var ops []op
	for len(ops) < 200 {
		k := []byte(fmt.Sprintf("key/%d", r.Intn(1000)))
		if seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		o := op{k: k, v: randValue(r)}
		if r.Intn(5) == 0 {
			o.v = nil
		}
		ops = append(ops, o)
	}
	var want []byte
	for trial := 0; trial < 5; trial++ {
		tree, err := store.OpenTree("")
		if err != nil {
			t.Fatal(err)
		}
		// Some of the deleted keys exist in the committed state.
		for i, o := range ops {
			if i%3 == 0 {
				tree.Set(o.k, []byte("old"))
			}
		}
		if _, _, err := tree.Commit(); err != nil {
			t.Fatal(err)
		}
		c := store.NewCache(tree)
		for _, i := range r.Perm(len(ops)) {
			if ops[i].v == nil {
				c.Delete(ops[i].k)
			} else {
				c.Set(ops[i].k, ops[i].v)
			}
		}
		c.Write()
		h := tree.WorkingHash()
		tree.Close()
		if trial == 0 {
			want = h
		} else if !bytes.Equal(h, want) {
			t.Fatalf("trial %d: hash %x, first order gave %x", trial, h, want)
		}
	}
}

func TestTreeEmptyValueIsPresent(t *testing.T) {
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	c := store.NewCache(tree)
	c.Set([]byte("k"), nil)
	c.Write()
	if !store.Has(tree, []byte("k")) {
		t.Fatal("tree: key set to an empty value through a cache reads as absent")
	}
	if got := dump(tree); !equalPairs(got, []kvPair{{"k", ""}}) {
		t.Fatalf("tree iteration = %q", got)
	}
}
