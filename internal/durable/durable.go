// Package durable keeps an agent's small records (commit salts, pending
// reveals, assignments in progress) on disk so a restarted agent picks up
// where it stopped: each record is a JSON file written to a temporary name,
// fsynced, renamed into place and its directory fsynced, so once Save
// returns the record survives a crash, and a crash during Save leaves the
// old record or the new one, never a torn one.
package durable

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dir is a directory of records keyed by name. The zero Dir keeps nothing:
// Save and Remove do nothing and Load finds nothing, for agents run without
// a state directory.
type Dir struct{ path string }

// Open creates dir if needed and returns it; "" gives the zero Dir.
func Open(dir string) (Dir, error) {
	if dir == "" {
		return Dir{}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Dir{}, fmt.Errorf("durable: create %s: %w", dir, err)
	}
	return Dir{path: dir}, nil
}

// Enabled reports whether records are kept.
func (d Dir) Enabled() bool { return d.path != "" }

func validKey(key string) error {
	if key == "" || strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") {
		return fmt.Errorf("durable: bad record name %q", key)
	}
	return nil
}

// Save writes v as the record key and returns once it is on disk.
func (d Dir) Save(key string, v any) error {
	if !d.Enabled() {
		return nil
	}
	if err := validKey(key); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("durable: encode %s: %w", key, err)
	}
	f, err := os.CreateTemp(d.path, ".tmp-"+key+"-")
	if err != nil {
		return fmt.Errorf("durable: save %s: %w", key, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(d.path, key+".json"))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("durable: save %s: %w", key, err)
	}
	return d.syncDir()
}

func (d Dir) syncDir() error {
	dir, err := os.Open(d.path)
	if err != nil {
		return fmt.Errorf("durable: sync %s: %w", d.path, err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("durable: sync %s: %w", d.path, err)
	}
	return nil
}

// Load reads the record key into v; false if there is none.
func (d Dir) Load(key string, v any) (bool, error) {
	if !d.Enabled() {
		return false, nil
	}
	if err := validKey(key); err != nil {
		return false, err
	}
	b, err := os.ReadFile(filepath.Join(d.path, key+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("durable: load %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("durable: record %s is corrupt: %w", key, err)
	}
	return true, nil
}

// Remove deletes the record key, if there is one.
func (d Dir) Remove(key string) error {
	if !d.Enabled() {
		return nil
	}
	if err := validKey(key); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d.path, key+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("durable: remove %s: %w", key, err)
	}
	return nil
}

// Keys lists the records whose names start with prefix, sorted.
func (d Dir) Keys(prefix string) ([]string, error) {
	if !d.Enabled() {
		return nil, nil
	}
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return nil, fmt.Errorf("durable: list %s: %w", d.path, err)
	}
	var keys []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && e.Type().IsRegular() && !strings.HasPrefix(name, ".") && strings.HasPrefix(name, prefix) {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	return keys, nil
}
