package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/durable"
	"github.com/tenun-chain/tenun/subnet"
)

// Item is one evaluation row: features and the true label.
type Item struct {
	X []int
	Y int
}

// ParseEvalCSV reads an evaluation data set: CSV rows of integer features
// followed by the integer label; a first row that is not numeric is taken
// as a header and skipped.
func ParseEvalCSV(b []byte) ([]Item, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	var items []Item
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("evaluation CSV: %w", err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("evaluation CSV line %d: need features and a label", line)
		}
		vals := make([]int, len(rec))
		for i, s := range rec {
			if vals[i], err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
				break
			}
		}
		if err != nil {
			if line == 1 {
				continue // header
			}
			return nil, fmt.Errorf("evaluation CSV line %d: %w", line, err)
		}
		if len(items) > 0 && len(vals)-1 != len(items[0].X) {
			return nil, fmt.Errorf("evaluation CSV line %d: %d features, earlier rows have %d", line, len(vals)-1, len(items[0].X))
		}
		items = append(items, Item{X: vals[:len(vals)-1], Y: vals[len(vals)-1]})
	}
	if len(items) == 0 {
		return nil, errors.New("evaluation CSV has no rows")
	}
	return items, nil
}

// Strategy is how a validator decides its weights.
type Strategy string

const (
	// Honest scores every miner on a fresh sample each epoch.
	Honest Strategy = "honest"
	// Copier evaluates nothing: it waits until other validators' weights
	// appear on chain and submits their average as its own. Under
	// commit-reveal it can only copy revealed weights, so its own land an
	// epoch after everyone else's.
	Copier Strategy = "copier"
)

// Validator scores a subnet's miners and sets weights once per epoch.
type Validator struct {
	Client   *client.Client
	Key      ed25519.PrivKey
	Subnet   uint64
	Strategy Strategy // default Honest
	// Stake is bonded at registration (0: the subnet's validator minimum).
	Stake uint64
	// Samples is how many evaluation rows each miner is scored on per
	// epoch (default 64).
	Samples int
	// Poll is how often the loop reads the chain (default 100 ms).
	Poll time.Duration
	HTTP *http.Client // default: 10 s timeout
	Logf func(format string, args ...any)
	// StateDir, when set, keeps each commitment's weights and salt on disk
	// until revealed (persist.go), so a restart between commit and reveal
	// still reveals on time.
	StateDir string

	mu    sync.Mutex
	stats ValidatorStats
	state durable.Dir
}

// ValidatorStats is what a validator has done so far.
type ValidatorStats struct {
	UID         uint16             `json:"uid"`
	Evaluations int                `json:"evaluations"`
	WeightsSet  int                `json:"weights_set"`
	Commits     int                `json:"commits"`
	Reveals     int                `json:"reveals"`
	Copies      int                `json:"copies"`
	LastScores  map[uint16]float64 `json:"last_scores,omitempty"` // accuracy per miner uid
	Errors      int                `json:"errors"`
}

// Stats returns a snapshot of the validator's counters.
func (v *Validator) Stats() ValidatorStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.stats
	s.LastScores = make(map[uint16]float64, len(v.stats.LastScores))
	for k, x := range v.stats.LastScores {
		s.LastScores[k] = x
	}
	return s
}

func (v *Validator) count(f func(*ValidatorStats)) {
	v.mu.Lock()
	f(&v.stats)
	v.mu.Unlock()
}

func (v *Validator) logf(format string, args ...any) {
	if v.Logf != nil {
		v.Logf(format, args...)
	}
}

// pendingReveal is a commit waiting for its reveal epoch.
type pendingReveal struct {
	epoch     uint64
	confirmed bool // epoch is the commit's, from its event (else a lower bound)
	uids      []uint16
	values    []uint16
	salt      chain.Hash
	key       string // its record in StateDir
}

// Run registers the validator (unless it already is) and works until ctx
// is done: once per epoch it decides weights by its strategy and submits
// them, and it reveals its commits when their epoch comes. Chain and miner
// errors are logged and retried at the next poll; Run returns nil when ctx
// ends.
func (v *Validator) Run(ctx context.Context) error {
	if v.Samples <= 0 {
		v.Samples = 64
	}
	if v.Poll <= 0 {
		v.Poll = 100 * time.Millisecond
	}
	if v.HTTP == nil {
		v.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if v.Strategy == "" {
		v.Strategy = Honest
	}
	uid, err := Register(ctx, v.Client, v.Key, &subnet.MsgRegister{Subnet: v.Subnet, Role: subnet.RoleValidator, Stake: v.Stake})
	if err != nil {
		return err
	}
	v.count(func(s *ValidatorStats) { s.UID = uid })
	info, err := Info(ctx, v.Client, v.Subnet)
	if err != nil {
		return err
	}
	var items []Item
	if v.Strategy == Honest {
		blob, err := v.Client.BlobGet(ctx, info.Dataset)
		if err != nil {
			return fmt.Errorf("fetch evaluation data set %s: %w", info.Dataset, err)
		}
		if items, err = ParseEvalCSV(blob); err != nil {
			return fmt.Errorf("evaluation data set %s: %w", info.Dataset, err)
		}
	}
	v.logf("validator uid %d of subnet %d (%s), %d evaluation rows", uid, v.Subnet, v.Strategy, len(items))

	pending, doneFor, err := v.openState() // doneFor: the epoch whose weights are submitted
	if err != nil {
		return err
	}
	copiedAt := map[uint16]int64{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(v.Poll):
		}
		info, err := Info(ctx, v.Client, v.Subnet)
		if err != nil {
			v.fail(ctx, "read subnet: %v", err)
			continue
		}
		pending = v.reveal(ctx, info, pending)
		if doneFor == info.Epoch {
			continue
		}
		var uids, values []uint16
		switch v.Strategy {
		case Copier:
			uids, values, err = v.copyWeights(ctx, uid, copiedAt)
		default:
			uids, values, err = v.Evaluate(ctx, items, info.Epoch)
		}
		if err != nil {
			v.fail(ctx, "epoch %d: %v", info.Epoch, err)
			continue
		}
		if len(uids) == 0 {
			continue // nothing to weigh yet: try again at the next poll
		}
		p, err := v.submit(ctx, info, uid, uids, values)
		if err != nil {
			v.fail(ctx, "epoch %d: submit weights: %v", info.Epoch, err)
			continue
		}
		if p != nil {
			pending = append(pending, *p)
		}
		doneFor = info.Epoch
		if err := v.saveDone(doneFor); err != nil {
			v.fail(ctx, "epoch %d: %v", info.Epoch, err)
		}
	}
}

// fail counts and logs an error, unless ctx has ended: requests cut short
// by shutdown are not failures.
func (v *Validator) fail(ctx context.Context, format string, args ...any) {
	if ctx.Err() != nil {
		return
	}
	v.count(func(s *ValidatorStats) { s.Errors++ })
	v.logf("validator: "+format, args...)
}

// submit sets the weights, or commits to them under commit-reveal and
// returns what must be revealed later.
func (v *Validator) submit(ctx context.Context, info subnet.Info, uid uint16, uids, values []uint16) (*pendingReveal, error) {
	if !info.Yuma.CommitReveal {
		if _, err := v.Client.Submit(ctx, v.Key, &subnet.MsgSetWeights{Subnet: v.Subnet, UIDs: uids, Values: values}, client.Options{}); err != nil {
			return nil, err
		}
		v.count(func(s *ValidatorStats) { s.WeightsSet++ })
		return nil, nil
	}
	var salt chain.Hash
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	hash := subnet.WeightsHash(v.Subnet, uid, uids, values, salt)
	p := &pendingReveal{epoch: info.Epoch, uids: uids, values: values, salt: salt}
	if err := v.saveCommit(p, hash); err != nil { // on disk before the commit is sent
		return nil, err
	}
	res, err := v.Client.Submit(ctx, v.Key, &subnet.MsgCommitWeights{Subnet: v.Subnet, Hash: hash}, client.Options{})
	var txErr *client.TxError
	if errors.As(err, &txErr) {
		v.forget(*p) // refused: nothing to reveal
	}
	if err != nil {
		return nil, err
	}
	// The commit's epoch is the chain's at inclusion, which can be past
	// the one this loop read: take it from the event.
	epoch, ok := eventU64(res.Events, "subnet_commit", "epoch")
	if !ok {
		return nil, errors.New("commit: no epoch in the transaction's events")
	}
	v.count(func(s *ValidatorStats) { s.Commits++ })
	p.epoch, p.confirmed = epoch, true
	if err := v.saveCommit(p, hash); err != nil {
		v.logf("validator: %v (the record keeps the epoch read before the commit)", err)
	}
	return p, nil
}

// reveal submits each pending commit whose reveal epoch has come and
// returns those still waiting.
func (v *Validator) reveal(ctx context.Context, info subnet.Info, pending []pendingReveal) []pendingReveal {
	var keep []pendingReveal
	for _, p := range pending {
		due := p.epoch + info.RevealPeriod
		switch {
		case info.Epoch < due:
			keep = append(keep, p)
			continue
		case p.expired(info.Epoch, info.RevealPeriod):
			v.fail(ctx, "commit of epoch %d expired unrevealed", p.epoch)
			v.forget(p)
			continue
		}
		_, err := v.Client.Submit(ctx, v.Key, &subnet.MsgRevealWeights{Subnet: v.Subnet, UIDs: p.uids, Values: p.values, Salt: p.salt}, client.Options{})
		var txErr *client.TxError
		switch {
		case err == nil:
			v.count(func(s *ValidatorStats) { s.Reveals++ })
			v.forget(p)
		case errors.As(err, &txErr) && txErr.Res.Code == chain.ErrTooEarly.Code:
			keep = append(keep, p) // the node's view ran ahead of the block (or the epoch is a lower bound): retry
		default:
			v.fail(ctx, "reveal commit of epoch %d: %v", p.epoch, err)
			if !errors.As(err, &txErr) {
				keep = append(keep, p) // transport error: retry
			} else {
				v.forget(p)
			}
		}
	}
	return keep
}

// sampleSeed derives this validator's sample for an epoch: different
// validators and epochs draw different rows, so a miner cannot learn the
// test rows from one query and overfit them.
func sampleSeed(key ed25519.PrivKey, subnetID, epoch uint64) (uint64, uint64) {
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], subnetID)
	binary.BigEndian.PutUint64(buf[8:], epoch)
	h := sha256.Sum256(append(append([]byte("tenun/subnet/sample/"), key.PubKey().Bytes()...), buf[:]...))
	return binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:16])
}

// Evaluate scores every miner on a sample of items and returns weights:
// each miner's accuracy scaled to 0..65535, in uid order.
func (v *Validator) Evaluate(ctx context.Context, items []Item, epoch uint64) ([]uint16, []uint16, error) {
	mg, err := Metagraph(ctx, v.Client, v.Subnet)
	if err != nil {
		return nil, nil, err
	}
	var miners []subnet.MetagraphEntry
	for _, n := range mg {
		if n.Role == subnet.RoleMiner {
			miners = append(miners, n)
		}
	}
	if len(miners) == 0 || len(items) == 0 {
		return nil, nil, nil
	}
	s1, s2 := sampleSeed(v.Key, v.Subnet, epoch)
	rng := mrand.New(mrand.NewPCG(s1, s2))
	k := min(v.Samples, len(items))
	sample := rng.Perm(len(items))[:k]
	inputs := make([][]int, k)
	for i, j := range sample {
		inputs[i] = items[j].X
	}
	correct := make([]int, len(miners))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for mi, m := range miners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			labels, err := Predict(ctx, v.HTTP, m.Endpoint, inputs)
			if err != nil {
				v.logf("validator: miner uid %d: %v (scored 0)", m.UID, err)
				return
			}
			for i, j := range sample {
				if labels[i] == items[j].Y {
					correct[mi]++
				}
			}
		}()
	}
	wg.Wait()
	uids := make([]uint16, len(miners))
	values := make([]uint16, len(miners))
	scores := map[uint16]float64{}
	nonzero := false
	for i, m := range miners {
		uids[i] = m.UID
		values[i] = uint16(correct[i] * 65535 / k)
		scores[m.UID] = float64(correct[i]) / float64(k)
		nonzero = nonzero || values[i] > 0
	}
	v.count(func(s *ValidatorStats) { s.Evaluations++; s.LastScores = scores })
	if !nonzero {
		return nil, nil, nil // every miner failed: weights of zeros say nothing
	}
	return uids, values, nil
}

// Predict asks a miner endpoint to label inputs.
func Predict(ctx context.Context, hc *http.Client, endpoint string, inputs [][]int) ([]int, error) {
	body, err := json.Marshal(PredictRequest{Inputs: inputs})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/predict", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("predict request to %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("predict at %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxPredictBytes))
	if err != nil {
		return nil, fmt.Errorf("predict at %s: read answer: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("predict at %s: HTTP %d: %s", endpoint, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var out PredictResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("predict at %s: decode answer: %w", endpoint, err)
	}
	if len(out.Labels) != len(inputs) {
		return nil, fmt.Errorf("predict at %s: %d labels for %d inputs", endpoint, len(out.Labels), len(inputs))
	}
	return out.Labels, nil
}

// copyWeights returns the average of the other validators' weight rows once
// at least one of them has changed since the last copy; nothing otherwise.
func (v *Validator) copyWeights(ctx context.Context, self uint16, copiedAt map[uint16]int64) ([]uint16, []uint16, error) {
	mg, err := Metagraph(ctx, v.Client, v.Subnet)
	if err != nil {
		return nil, nil, err
	}
	fresh := false
	sums := map[uint16]uint64{}
	rows := 0
	for _, n := range mg {
		if n.Role != subnet.RoleValidator || n.UID == self || len(n.Weights) == 0 {
			continue
		}
		if n.LastUpdate > copiedAt[n.UID] {
			fresh = true
		}
		rows++
		for _, w := range n.Weights {
			sums[w.UID] += uint64(w.Value)
		}
	}
	if !fresh {
		return nil, nil, nil
	}
	for _, n := range mg {
		if n.Role == subnet.RoleValidator && n.UID != self && len(n.Weights) > 0 {
			copiedAt[n.UID] = n.LastUpdate
		}
	}
	uids := make([]uint16, 0, len(sums))
	for u := range sums {
		uids = append(uids, u)
	}
	slices.Sort(uids)
	values := make([]uint16, len(uids))
	for i, u := range uids {
		values[i] = uint16(sums[u] / uint64(rows))
	}
	v.count(func(s *ValidatorStats) { s.Copies++ })
	return uids, values, nil
}

func eventU64(events []chain.Event, typ, key string) (uint64, bool) {
	for _, e := range events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == key {
				n, err := strconv.ParseUint(a.Value, 10, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}

func addressOf(key ed25519.PrivKey) chain.Address {
	return chain.AddressFromPubKey(key.PubKey().Bytes())
}
