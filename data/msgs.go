package data

import (
	"github.com/tenun-chain/tenun/chain"
)

// Limits on market messages.
const (
	MaxNameLen        = 128
	MaxDescriptionLen = 2048
	MaxBatchRecords   = 1000
	MaxRefLen         = 160
)

// MsgCreate creates a dataset owned (curated) by the sender.
type MsgCreate struct {
	Name        string   `json:"name" cbor:"1,keyasint"`
	Description string   `json:"description" cbor:"2,keyasint"`
	Schema      []Column `json:"schema" cbor:"3,keyasint"`
	License     string   `json:"license" cbor:"4,keyasint"`
	Terms       string   `json:"terms" cbor:"5,keyasint"`
	Price       uint64   `json:"price" cbor:"6,keyasint"`       // utnn per access grant
	CuratorBps  uint32   `json:"curator_bps" cbor:"7,keyasint"` // curator's share of each sale, in basis points
	MaxBatch    uint32   `json:"max_batch" cbor:"8,keyasint"`   // records per contribution
	RateLimit   uint32   `json:"rate_limit" cbor:"9,keyasint"`  // records accepted per contributor per window (0: none)
	RateWindow  int64    `json:"rate_window" cbor:"10,keyasint"`
}

func (*MsgCreate) Type() string { return "data/create" }
func (m *MsgCreate) ValidateBasic() error {
	switch {
	case m.Name == "" || len(m.Name) > MaxNameLen:
		return chain.Wrap(chain.ErrInvalidRequest, "name must be 1 to %d characters", MaxNameLen)
	case len(m.Description) > MaxDescriptionLen || len(m.License) > MaxNameLen || len(m.Terms) > MaxDescriptionLen:
		return chain.Wrap(chain.ErrInvalidRequest, "description, license or terms too long")
	case m.CuratorBps > 10_000:
		return chain.Wrap(chain.ErrInvalidRequest, "curator share %d bps is over 10000", m.CuratorBps)
	case m.MaxBatch == 0 || m.MaxBatch > MaxBatchRecords:
		return chain.Wrap(chain.ErrInvalidRequest, "max_batch must be 1 to %d", MaxBatchRecords)
	case m.RateLimit > 0 && m.RateWindow <= 0:
		return chain.Wrap(chain.ErrInvalidRequest, "a rate limit needs a positive rate_window in blocks")
	}
	return ValidateSchema(m.Schema)
}

// MsgContribute submits a batch of records (values in schema order). The
// batch's CID is the CID of its canonical encoding (EncodeBatch), which the
// contributor also uploads to the node's blob store for the gateway.
type MsgContribute struct {
	Dataset uint64     `json:"dataset" cbor:"1,keyasint"`
	Records [][]string `json:"records" cbor:"2,keyasint"`
}

func (*MsgContribute) Type() string { return "data/contribute" }
func (m *MsgContribute) ValidateBasic() error {
	if len(m.Records) == 0 {
		return chain.Wrap(chain.ErrInvalidRequest, "empty batch")
	}
	if len(m.Records) > MaxBatchRecords {
		return chain.Wrap(chain.ErrInvalidRequest, "batch of %d records is over the limit of %d", len(m.Records), MaxBatchRecords)
	}
	return nil
}

// EncodeBatch is the canonical bytes of a batch: its blob content.
func EncodeBatch(records [][]string) []byte { return chain.Marshal(records) }

// DecodeBatch reads a batch blob.
func DecodeBatch(b []byte) ([][]string, error) {
	var recs [][]string
	if err := chain.Unmarshal(b, &recs); err != nil {
		return nil, chain.Wrap(chain.ErrDecode, "batch: %v", err)
	}
	return recs, nil
}

// MsgSnapshot freezes the dataset's accepted records as a new version.
type MsgSnapshot struct {
	Dataset uint64 `json:"dataset" cbor:"1,keyasint"`
	Note    string `json:"note,omitempty" cbor:"2,keyasint,omitempty"`
}

func (*MsgSnapshot) Type() string { return "data/snapshot" }
func (m *MsgSnapshot) ValidateBasic() error {
	if len(m.Note) > MaxDescriptionLen {
		return chain.Wrap(chain.ErrInvalidRequest, "note too long")
	}
	return nil
}

// MsgBuy pays for access to a dataset version.
type MsgBuy struct {
	Dataset uint64 `json:"dataset" cbor:"1,keyasint"`
	Version uint64 `json:"version" cbor:"2,keyasint"`
}

func (*MsgBuy) Type() string { return "data/buy" }
func (m *MsgBuy) ValidateBasic() error {
	if m.Version == 0 {
		return chain.Wrap(chain.ErrInvalidRequest, "version must be 1 or more")
	}
	return nil
}

// MsgLink records a lineage edge: To was derived from From by Relation.
// References name artifacts: "dataset/<id>@<version>", "model/<hex commitment>",
// "blob/<cid>", "label-job/<id>", "compute-job/<id>".
type MsgLink struct {
	From     string `json:"from" cbor:"1,keyasint"`
	To       string `json:"to" cbor:"2,keyasint"`
	Relation string `json:"relation" cbor:"3,keyasint"` // cleaned, labelled, trained, ...
}

func (*MsgLink) Type() string { return "data/link" }
func (m *MsgLink) ValidateBasic() error {
	for _, r := range []string{m.From, m.To} {
		if err := validateRef(r); err != nil {
			return err
		}
	}
	if m.From == m.To {
		return chain.Wrap(chain.ErrInvalidRequest, "an artifact cannot derive from itself")
	}
	if m.Relation == "" || len(m.Relation) > 64 {
		return chain.Wrap(chain.ErrInvalidRequest, "relation must be 1 to 64 characters")
	}
	return nil
}
