package agent

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/durable"
)

// A validator's commitments on disk (Validator.StateDir), so that one
// stopped between committing to its weights and revealing them reveals on
// time when it starts again, instead of losing its salt and its epoch's
// weights:
//
//   - before a commit is sent, its weights and salt are saved (fsynced) as
//     a record named by the commit hash, with the epoch the loop read, a
//     lower bound of the commit's own epoch (which is the chain's at
//     inclusion). Once the commit is in a block the record is saved again
//     with the epoch from the transaction's event, Confirmed;
//   - the last epoch whose weights were submitted is saved too, so a
//     restarted validator does not commit a second time in that epoch (a
//     second commit replaces the first on chain, and the first record could
//     not be revealed);
//   - a record goes once its reveal is in a block, or is refused for good
//     (too late, or no such commit: a commit that never reached the chain).
//
// A crash between saving and sending leaves a record of a commit the chain
// never saw; its reveal is refused and the record dropped. The records are
// per subnet, so one state directory can serve validators of several
// subnets under one key.

// commitRecord is a pending reveal as saved.
type commitRecord struct {
	Subnet    uint64     `json:"subnet"`
	Epoch     uint64     `json:"epoch"`
	Confirmed bool       `json:"confirmed"` // Epoch is the commit's own (else a lower bound)
	UIDs      []uint16   `json:"uids"`
	Values    []uint16   `json:"values"`
	Salt      chain.Hash `json:"salt"` // 64 hex digits
}

// oldSalt reports the length of a record's salt in the format before
// salts were chain.Hash (8 to 64 bytes in base64), or 0 if it is not one.
func oldSalt(d durable.Dir, key string) int {
	var rec struct {
		Salt string `json:"salt"`
	}
	if _, err := d.Load(key, &rec); err != nil {
		return 0
	}
	if _, err := chain.ParseHash(rec.Salt); err == nil {
		return 0
	}
	b, err := base64.StdEncoding.DecodeString(rec.Salt)
	if err != nil || len(b) < 8 || len(b) > 64 {
		return 0
	}
	return len(b)
}

// doneRecord is the last epoch whose weights this validator submitted.
type doneRecord struct {
	Epoch uint64 `json:"epoch"`
}

func (v *Validator) commitPrefix() string {
	return "subnet-" + strconv.FormatUint(v.Subnet, 10) + "-commit-"
}
func (v *Validator) doneKey() string { return "subnet-" + strconv.FormatUint(v.Subnet, 10) + "-done" }

// openState opens StateDir and reads back the pending reveals and the last
// epoch submitted (^0, none, when there is no record).
func (v *Validator) openState() (pending []pendingReveal, doneFor uint64, err error) {
	doneFor = ^uint64(0)
	if v.state, err = durable.Open(v.StateDir); err != nil {
		return nil, doneFor, fmt.Errorf("validator state: %w", err)
	}
	var done doneRecord
	if ok, err := v.state.Load(v.doneKey(), &done); err != nil {
		return nil, doneFor, fmt.Errorf("validator state: %w", err)
	} else if ok {
		doneFor = done.Epoch
	}
	keys, err := v.state.Keys(v.commitPrefix())
	if err != nil {
		return nil, doneFor, fmt.Errorf("validator state: %w", err)
	}
	for _, k := range keys {
		var rec commitRecord
		if _, err := v.state.Load(k, &rec); err != nil {
			if n := oldSalt(v.state, k); n > 0 {
				return nil, doneFor, fmt.Errorf("validator state: record %s is in the old format (a %d-byte base64 salt, not 64 hex digits): reveal it with the release that wrote it, or delete it", k, n)
			}
			return nil, doneFor, fmt.Errorf("validator state: %w", err)
		}
		if err := rec.check(v.Subnet); err != nil {
			return nil, doneFor, fmt.Errorf("validator state: record %s: %w", k, err)
		}
		pending = append(pending, pendingReveal{epoch: rec.Epoch, confirmed: rec.Confirmed,
			uids: rec.UIDs, values: rec.Values, salt: rec.Salt, key: k})
	}
	if len(pending) > 0 {
		v.logf("validator: %d commitment(s) to reveal, kept from before a restart", len(pending))
	}
	return pending, doneFor, nil
}

// check refuses a record this validator could not have written: a file
// edited or left by another program is an error, not a reveal sent blindly.
func (r commitRecord) check(subnetID uint64) error {
	switch {
	case r.Subnet != subnetID:
		return fmt.Errorf("of subnet %d, not %d", r.Subnet, subnetID)
	case len(r.UIDs) == 0 || len(r.UIDs) != len(r.Values):
		return fmt.Errorf("%d uids and %d values", len(r.UIDs), len(r.Values))
	case r.Salt.IsZero():
		return errors.New("no salt (all zeros)")
	}
	return nil
}

// saveCommit records p (under a name from its hash) before its commit is
// sent, or again once the commit's epoch is known.
func (v *Validator) saveCommit(p *pendingReveal, hash chain.Hash) error {
	if p.key == "" {
		p.key = v.commitPrefix() + hex.EncodeToString(hash[:16])
	}
	rec := commitRecord{Subnet: v.Subnet, Epoch: p.epoch, Confirmed: p.confirmed, UIDs: p.uids, Values: p.values, Salt: p.salt}
	if err := v.state.Save(p.key, rec); err != nil {
		return fmt.Errorf("keep commitment: %w", err)
	}
	return nil
}

// forget drops the record of a reveal that is done with.
func (v *Validator) forget(p pendingReveal) {
	if p.key == "" {
		return
	}
	if err := v.state.Remove(p.key); err != nil {
		v.logf("validator: %v", err)
	}
}

// saveDone records that epoch's weights are submitted.
func (v *Validator) saveDone(epoch uint64) error {
	if err := v.state.Save(v.doneKey(), doneRecord{Epoch: epoch}); err != nil {
		return fmt.Errorf("keep submitted epoch: %w", err)
	}
	return nil
}

// expired reports whether p can no longer be revealed in epoch: past its
// reveal epoch, or past the latest one it may have when its commit's epoch
// was not confirmed (it is at most one past the epoch read before sending).
func (p pendingReveal) expired(epoch, revealPeriod uint64) bool {
	due := p.epoch + revealPeriod
	if !p.confirmed {
		due++
	}
	return epoch > due
}
