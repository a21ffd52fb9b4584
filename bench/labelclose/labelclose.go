// Package labelclose measures the close of a large labeling job on the
// chain's state machine: a job of many items (single choice, or a typed
// rating or box job) is worked through the real messages (join, commit,
// more, reveal) on a durable IAVL tree, closed with gold, and each block
// of its close (EndBlock and commit) is timed beside empty blocks on the
// same tree.
package labelclose

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/label"
)

// Options size the job.
type Options struct {
	Items, PerItem, Workers, Classes int
	// Task is label.TaskChoice ("" too), label.TaskRating (0 to 100) or
	// label.TaskBox (320x320 images, up to 4 boxes, Classes classes).
	Task     string
	Progress io.Writer // nil: quiet
}

// Result is what a run measured. Times are milliseconds.
type Result struct {
	Task                    string `json:"task"`
	Items, Answers, Workers int
	SetupSeconds            float64 `json:"setup_seconds"`
	CloseBlocks             int     `json:"close_blocks"`
	// The close's blocks: the longest, the mean and their sum (about what a
	// close in one block would take), and empty blocks on the same tree.
	LongestBlockMS  float64 `json:"longest_block_ms"`
	MeanBlockMS     float64 `json:"mean_block_ms"`
	TotalCloseMS    float64 `json:"total_close_ms"`
	EmptyBlockMS    float64 `json:"empty_block_ms"`
	LongestOverMean float64 `json:"longest_over_empty"`
	// Of the results on non-gold items, percent: the right label
	// (choice), within a twentieth of the range (rating), boxes matching
	// the true ones at IoU 0.5 (box).
	Accuracy float64 `json:"accuracy"`
	Slashed  int     `json:"slashed_workers"`
}

type runner struct {
	tree   *store.Tree
	app    *chain.App
	height int64
	cache  *store.Cache
}

func (r *runner) block() chain.Block {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(r.height))
	return chain.Block{Height: r.height, ChainID: "bench", Seed: sha256.Sum256(b[:])}
}

// kv is the current block's state.
func (r *runner) kv() *store.Cache {
	if r.cache == nil {
		r.cache = store.NewCache(r.tree)
	}
	return r.cache
}

// msg runs one message in the current block.
func (r *runner) msg(sender chain.Address, m chain.Msg) error {
	tx := store.NewCache(r.kv())
	ctx := chain.NewContext(tx, r.block(), chain.DefaultParams())
	ctx.Sender = sender
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	if err := r.app.Router().HandleForTest(ctx, m); err != nil {
		return fmt.Errorf("%s at block %d: %w", m.Type(), r.height, err)
	}
	tx.Write()
	return nil
}

// end runs EndBlock, writes and commits the block.
func (r *runner) end() error {
	ctx := chain.NewContext(r.kv(), r.block(), chain.DefaultParams())
	if err := (label.Domain{}).EndBlock(ctx); err != nil {
		return err
	}
	r.cache.Write()
	r.cache = nil
	if _, _, err := r.tree.Commit(); err != nil {
		return err
	}
	r.height++
	return nil
}

func addrOf(i int) chain.Address {
	var a chain.Address
	binary.BigEndian.PutUint32(a[:], uint32(i+1))
	a[19] = 0x1b
	return a
}

// Run works and closes the job.
func Run(o Options) (*Result, error) {
	if o.Items < 10 || o.PerItem < 1 || o.PerItem > label.MaxRedundancy || o.Workers < 2 || o.Workers > label.MaxWorkers || o.Classes < 2 {
		return nil, fmt.Errorf("labelclose: %d items x %d answers from %d workers over %d classes: out of bounds", o.Items, o.PerItem, o.Workers, o.Classes)
	}
	task := label.TaskOf(o.Task)
	if task != label.TaskChoice && task != label.TaskRating && task != label.TaskBox {
		return nil, fmt.Errorf("labelclose: task %q: want choice, rating or box", o.Task)
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	dir, err := os.MkdirTemp("", "tenun-bench-labelclose-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tree, err := store.OpenTree(dir)
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	r := &runner{tree: tree, app: chain.NewApp("bench", label.Domain{}), height: 1}
	requester := addrOf(1 << 20)
	g := chain.Genesis{Params: chain.DefaultParams(), Accounts: []chain.GenesisAccount{{Address: requester, Balance: 1 << 50}}}
	for w := range o.Workers {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addrOf(w), Balance: 1 << 30})
	}
	if err := r.app.InitGenesis(chain.NewContext(tree, r.block(), g.Params), g); err != nil {
		return nil, err
	}
	if _, _, err := tree.Commit(); err != nil {
		return nil, err
	}
	start := time.Now()
	tk := newTruth(task, o.Items, o.Classes)
	var goldItems []uint32
	for i := 0; i < o.Items; i += 100 {
		goldItems = append(goldItems, uint32(i))
	}
	gold := tk.gold(goldItems)
	goldSalt := chain.Hash(sha256.Sum256([]byte("bench-gold-salt")))
	cid := chain.BlobCID([]byte(fmt.Sprintf("bench items %d", o.Items)))
	per := uint32((o.Items*o.PerItem + o.Workers - 1) / o.Workers)
	labels := make([]string, o.Classes)
	for c := range labels {
		labels[c] = fmt.Sprintf("class %d", c)
	}
	const stake = 1000
	if err := r.msg(requester, &chain.MsgRegisterBlob{CID: cid, Size: 1024}); err != nil {
		return nil, err
	}
	job := &label.MsgCreateJob{Title: "bench close", Labels: labels, ItemKind: label.KindText, ItemsCID: cid, Task: o.Task,
		ItemCount: uint32(o.Items), ItemFormat: label.FormatJSONL, Redundancy: uint32(o.PerItem), MaxRedundancy: uint32(o.PerItem),
		Reward: 1, Stake: stake, DeadlineBlocks: int64(o.Workers) + 10, RevealBlocks: 1_000_000, GraceBlocks: 1000, QualityPPM: 500_000,
		BatchSize: label.MaxBatch, MaxPerWorker: per, GoldHash: label.GoldAnswersHash(goldItems, gold.GoldLabels, gold.GoldValues, gold.GoldBoxes, goldSalt)}
	switch task {
	case label.TaskRating:
		job.Labels, job.RatingMin, job.RatingMax = nil, 0, ratingMax
	case label.TaskBox:
		job.Width, job.Height, job.MaxBoxes = imageSide, imageSide, maxBoxes
	}
	if err := r.msg(requester, job); err != nil {
		return nil, err
	}
	const id = 1
	// 85% honest workers (right 80% of the time), the rest answer at random.
	honest := o.Workers * 85 / 100
	answer := func(w int, item uint32) label.Answer { return tk.answer(w < honest, w, item) }
	salt := func(w int, item uint32) chain.Hash {
		return sha256.Sum256(binary.BigEndian.AppendUint32([]byte(fmt.Sprintf("salt %d ", w)), item))
	}
	done := make([][]uint32, o.Workers) // committed items
	for w := range o.Workers {
		a := addrOf(w)
		if err := r.msg(a, &chain.MsgBond{Pool: label.Pool, Amount: stake}); err != nil {
			return nil, err
		}
		if err := r.msg(a, &label.MsgJoin{Job: id}); err != nil {
			return nil, err
		}
	}
	// Each worker commits its batch and asks for the next until it has its
	// share, in a block of its own.
	for w := range o.Workers {
		a := addrOf(w)
		for {
			m := &label.MsgCommit{Job: id}
			for _, t := range label.WorkerTasks(r.kv(), id, a) {
				if t.State == label.TaskAssigned {
					m.Entries = append(m.Entries, label.CommitEntry{Item: t.Item, Hash: label.CommitAnswerHash(id, t.Item, answer(w, t.Item), salt(w, t.Item), a)})
					done[w] = append(done[w], t.Item)
				}
			}
			if err := r.msg(a, m); err != nil {
				return nil, err
			}
			if r.msg(a, &label.MsgMore{Job: id}) != nil {
				break // it has its share, or no item needs it
			}
		}
		if err := r.end(); err != nil {
			return nil, err
		}
		if w%20 == 19 {
			fmt.Fprintf(progress, "bench labels close: %d of %d workers committed\n", w+1, o.Workers)
		}
	}
	// Skip to the end of the commit phase (the blocks between do nothing).
	j, err := label.GetJob(r.tree, id)
	if err != nil {
		return nil, err
	}
	r.height = j.CommitEnd + 1
	answers := 0
	for w := range o.Workers {
		a := addrOf(w)
		for k := 0; k < len(done[w]); k += label.MaxBatch {
			m := &label.MsgReveal{Job: id}
			for _, it := range done[w][k:min(k+label.MaxBatch, len(done[w]))] {
				ans := answer(w, it)
				m.Entries = append(m.Entries, label.RevealEntry{Item: it, Label: ans.Label, Value: ans.Value, Boxes: ans.Boxes, Salt: salt(w, it)})
			}
			if err := r.msg(a, m); err != nil {
				return nil, err
			}
			answers += len(m.Entries)
		}
		if w%32 == 31 {
			if err := r.end(); err != nil {
				return nil, err
			}
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "bench labels close: %d answers revealed in %.1fs; closing\n", answers, time.Since(start).Seconds())
	res := &Result{Task: task, Items: o.Items, Answers: answers, Workers: o.Workers, SetupSeconds: time.Since(start).Seconds()}
	// Empty blocks on the same tree, for the baseline.
	var empty time.Duration
	const emptyBlocks = 5
	for range emptyBlocks {
		t0 := time.Now()
		if err := r.end(); err != nil {
			return nil, err
		}
		empty += time.Since(t0)
	}
	res.EmptyBlockMS = ms(empty) / emptyBlocks
	// The close: a message in one block, then EndBlock's steps.
	gold.Job, gold.Salt = id, goldSalt
	if err := r.msg(requester, gold); err != nil {
		return nil, err
	}
	var total, longest time.Duration
	for {
		t0 := time.Now()
		if err := r.end(); err != nil {
			return nil, err
		}
		d := time.Since(t0)
		total += d
		longest = max(longest, d)
		res.CloseBlocks++
		j, err := label.GetJob(r.tree, id)
		if err != nil {
			return nil, err
		}
		phase, _, _ := label.Closing(r.tree, id)
		fmt.Fprintf(progress, "bench labels close: block %d (%s) %.1f ms\n", res.CloseBlocks, phase, ms(d))
		if j.Status != label.StatusClosing {
			if j.Status != label.StatusClosed {
				return nil, fmt.Errorf("labelclose: job ended %s", j.Status)
			}
			break
		}
		if res.CloseBlocks > 10_000 {
			return nil, fmt.Errorf("labelclose: the close did not finish in 10,000 blocks")
		}
	}
	res.LongestBlockMS, res.TotalCloseMS = ms(longest), ms(total)
	res.MeanBlockMS = res.TotalCloseMS / float64(res.CloseBlocks)
	if res.EmptyBlockMS > 0 {
		res.LongestOverMean = res.LongestBlockMS / res.EmptyBlockMS
	}
	results, err := label.GetResults(r.tree, id)
	if err != nil {
		return nil, err
	}
	isGold := map[uint32]bool{}
	for _, g := range goldItems {
		isGold[g] = true
	}
	var right, scored int
	for _, it := range results.Items {
		if isGold[it.Item] || it.Label < 0 {
			continue
		}
		scored++
		if tk.right(&it) {
			right++
		}
	}
	res.Accuracy = 100 * float64(right) / float64(max(scored, 1))
	j, _ = label.GetJob(r.tree, id)
	for _, w := range label.Workers(r.tree, &j) {
		if w.Slashed > 0 {
			res.Slashed++
		}
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
