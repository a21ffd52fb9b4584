package gateway

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/tenun-chain/tenun/blob"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/internal/atomicfile"
)

// An export is one rendering of a dataset version (a format and a column
// projection) kept as a file on the node's disk with the UnixFS DAG index
// of its bytes. It is built once, after checking every record against the
// version's Merkle root; every download after that streams the file,
// checking each 256 KiB chunk against its leaf CID as it goes, and answers
// range requests. A version never changes, so an export never goes stale.
type exports struct {
	dir string
	mu  sync.Mutex // one build at a time: each is a pass over a version
}

// An export's files: <key> (the bytes), <key>.root (its CID), and for a
// file over one chunk <key>.index.car (its DAG's internal nodes).
const (
	rootSuffix  = ".root"
	indexSuffix = ".index.car"
)

func exportKey(id, ver uint64, format string, columns []int) string {
	h := sha256.New()
	fmt.Fprintf(h, "tenun/data-export/v1\n%d\n%d\n%s\n%v", id, ver, format, columns)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// An openExport is an export ready to read: Reader checks chunks as it
// reads.
type openExport struct {
	f      *os.File
	Index  blob.Index
	Reader *blob.Reader
}

func (o *openExport) Close() error { return o.f.Close() }

// open returns the export of v in format projected onto columns (nil: all),
// building it first if this node has not.
func (e *exports) open(kv store.KV, blobOf func(string) ([]byte, error), d data.Dataset, v data.Version, format string, columns []int) (*openExport, error) {
	path := filepath.Join(e.dir, exportKey(d.ID, v.Version, format, columns))
	if o, err := load(path); err == nil {
		return o, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if o, err := load(path); err == nil {
		return o, nil // built while this request waited
	}
	if err := build(path, kv, blobOf, d, v, format, columns); err != nil {
		return nil, err
	}
	if err := e.evict(path); err != nil {
		return nil, err
	}
	return load(path)
}

// evict removes the least recently served exports other than keep until
// the rest fit in MaxExportBytes.
func (e *exports) evict(keep string) error {
	entries, err := os.ReadDir(e.dir)
	if err != nil {
		return fmt.Errorf("export cache: %w", err)
	}
	type export struct {
		path  string
		bytes int64
		used  time.Time
	}
	var all []export
	var total int64
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), rootSuffix)
		if !ok {
			continue
		}
		x := export{path: filepath.Join(e.dir, name)}
		if info, err := ent.Info(); err == nil {
			x.used = info.ModTime()
		}
		for _, suffix := range []string{"", indexSuffix} {
			if info, err := os.Stat(x.path + suffix); err == nil {
				x.bytes += info.Size()
			}
		}
		total += x.bytes
		all = append(all, x)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].used.Before(all[j].used) })
	for _, x := range all {
		if total <= MaxExportBytes {
			break
		}
		if x.path == keep {
			continue
		}
		// The root goes first: a half-removed export is simply absent.
		for _, suffix := range []string{rootSuffix, "", indexSuffix} {
			os.Remove(x.path + suffix)
		}
		total -= x.bytes
	}
	return nil
}

// MaxExportBytes bounds the exports a node keeps: building one past it
// first removes the least recently served (a grantee asking for every
// column projection cannot fill the disk).
var MaxExportBytes int64 = 8 << 30

func load(path string) (*openExport, error) {
	raw, err := os.ReadFile(path + rootSuffix)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	os.Chtimes(path+rootSuffix, now, now) // served now: evicted last
	root, err := cid.Parse(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var ix blob.Index
	if root.Type() == cid.DagProtobuf {
		var idx *os.File
		if idx, err = os.Open(path + indexSuffix); err == nil {
			ix, err = blob.ReadIndex(idx)
			idx.Close()
		}
		if err == nil && (ix.Root != root || ix.Size != st.Size()) {
			err = fmt.Errorf("export %s: its index is of %s, %d bytes", path, ix.Root, ix.Size)
		}
	} else {
		ix, err = blob.SingleBlock(root, st.Size())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	r := blob.NewReader(f, ix)
	r.Name = "export of " + root.String()
	return &openExport{f: f, Index: ix, Reader: r}, nil
}

// build writes the export, streaming: records are rendered as they are
// read (a batch at a time), their hashes kept (32 bytes a record) for the
// Merkle check at the end; a version that fails the check leaves nothing.
// The DAG index comes from a second, sequential read of the file.
func build(path string, kv store.KV, blobOf func(string) ([]byte, error), d data.Dataset, v data.Version, format string, columns []int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".build-*")
	if err != nil {
		return fmt.Errorf("build export: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	render, flush := renderer(bw, d.Schema, format, columns)
	hashes := make([]chain.Hash, 0, v.Count)
	err = EachVersionRecord(kv, blobOf, v, func(rec []string) error {
		hashes = append(hashes, data.RecordHash(rec))
		return render(rec)
	})
	if err != nil {
		return err
	}
	if data.MerkleRoot(hashes) != v.Root {
		return fmt.Errorf("dataset %d version %d: records do not match the committed Merkle root", v.Dataset, v.Version)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("build export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("build export: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("build export: %w", err)
	}
	var nodes blob.Collector
	root, _, err := blob.Import(context.Background(), bufio.NewReaderSize(tmp, 1<<20), &nodes)
	if err != nil {
		return fmt.Errorf("build export: %w", err)
	}
	if root.Type() == cid.DagProtobuf {
		f, err := os.Create(path + indexSuffix)
		if err == nil {
			err = blob.WriteIndex(f, root, nodes.Nodes)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("build export index: %w", err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("build export: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("build export: %w", err)
	}
	// The root lands last: an export exists once its root file does.
	if err := atomicfile.WriteFile(path+rootSuffix, []byte(root.String()+"\n"), 0o644); err != nil {
		return fmt.Errorf("build export: %w", err)
	}
	return nil
}

// renderer writes records in format (csv with a header row, or jsonl),
// projected onto columns.
func renderer(w io.Writer, schema []data.Column, format string, columns []int) (render func([]string) error, flush func() error) {
	if columns == nil {
		columns = make([]int, len(schema))
		for i := range columns {
			columns[i] = i
		}
	}
	if format == "jsonl" {
		enc := json.NewEncoder(w)
		return func(rec []string) error {
			obj := make(map[string]string, len(columns)) // encoded with sorted keys
			for _, i := range columns {
				obj[schema[i].Name] = rec[i]
			}
			return enc.Encode(obj)
		}, func() error { return nil }
	}
	cw := csv.NewWriter(w)
	header := make([]string, len(columns))
	for k, i := range columns {
		header[k] = schema[i].Name
	}
	cw.Write(header)
	out := make([]string, len(columns))
	return func(rec []string) error {
			for k, i := range columns {
				out[k] = rec[i]
			}
			return cw.Write(out)
		}, func() error {
			cw.Flush()
			return cw.Error()
		}
}

// EachVersionRecord calls fn with each record of a version in order, from
// state (where the chain keeps a derived dataset's records) or else from
// its batches' blobs, one batch in memory at a time. The caller checks the
// records against the version's Merkle root.
func EachVersionRecord(kv store.KV, blobOf func(string) ([]byte, error), v data.Version, fn func([]string) error) error {
	if v.Count == 0 {
		return nil
	}
	if data.HasRows(kv, v.Dataset) {
		return data.EachRow(kv, v.Dataset, v.Count, fn)
	}
	var n uint64
	for seq := uint64(1); seq <= v.Batches && n < v.Count; seq++ {
		b, ok := data.GetBatch(kv, v.Dataset, seq)
		if !ok {
			return fmt.Errorf("dataset %d: batch %d missing", v.Dataset, seq)
		}
		content, err := blobOf(b.CID)
		if err != nil {
			return fmt.Errorf("dataset %d batch %d: %w", v.Dataset, seq, err)
		}
		recs, err := data.DecodeBatch(content)
		if err != nil {
			return err
		}
		for _, i := range b.Accepted {
			if int(i) >= len(recs) || n == v.Count {
				break
			}
			if err := fn(recs[i]); err != nil {
				return err
			}
			n++
		}
	}
	if n != v.Count {
		return errors.New("fewer records than the version counts")
	}
	return nil
}
