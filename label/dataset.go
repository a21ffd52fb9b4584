package label

import (
	"fmt"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/data"
)

// A labelling job over a data-market dataset version: its items are the
// version's records (the chosen columns, comma-joined: a grid item is its
// pixel columns), read by the chain from the data market's state, and when
// the job closes its result becomes a labelled dataset in the data market
// (data.PublishLabelled), whose lineage points to the raw version and the
// job. The requester must curate the raw dataset or hold a grant to it.

// Limits of a dataset source.
const (
	MaxSourceColumns = 256
	MaxColumnNameLen = 64
)

// DataSource names the dataset version a job labels and declares, up front,
// the terms of the labelled dataset it will produce.
type DataSource struct {
	Dataset uint64   `json:"dataset" cbor:"1,keyasint"`
	Version uint64   `json:"version" cbor:"2,keyasint"`
	Columns []string `json:"columns,omitempty" cbor:"3,keyasint,omitempty"` // shown to annotators; empty: all
	// The labelled dataset: its name, price per grant, the curator's share,
	// and the share of the contributors' pool paid to the annotators (the
	// raw contributors get the rest).
	Name         string `json:"name" cbor:"4,keyasint"`
	Price        uint64 `json:"price" cbor:"5,keyasint"`
	CuratorBps   uint32 `json:"curator_bps" cbor:"6,keyasint"`
	AnnotatorBps uint32 `json:"annotator_bps" cbor:"7,keyasint"`
}

// Ref is the lineage reference of the source version.
func (s *DataSource) Ref() string { return data.DatasetRef(s.Dataset, s.Version) }

func (s *DataSource) validate(m *MsgCreateJob) error {
	bad := func(format string, args ...any) error { return chain.Wrap(chain.ErrInvalidRequest, format, args...) }
	switch {
	case TaskOf(m.Task) != TaskChoice:
		return bad("a job over a dataset version is a %s job (one label per record), not %s", TaskChoice, TaskOf(m.Task))
	case len(m.Items) > 0 || m.ItemsCID != "" || m.ItemFormat != "":
		return bad("a job over a dataset version takes its items from it: give no inline items, items CID or format")
	case s.Version == 0:
		return bad("dataset version must be 1 or more")
	case m.ItemCount == 0 || m.ItemCount > MaxInlineItems:
		return bad("item count %d: want the version's record count, 1 to %d", m.ItemCount, MaxInlineItems)
	case len(s.Columns) > MaxSourceColumns:
		return bad("%d columns, at most %d", len(s.Columns), MaxSourceColumns)
	case s.Name == "" || len(s.Name) > data.MaxNameLen:
		return bad("labelled dataset name must be 1 to %d characters", data.MaxNameLen)
	case s.CuratorBps > 10_000 || s.AnnotatorBps > 10_000:
		return bad("curator and annotator shares are basis points, at most 10000")
	}
	for _, c := range s.Columns {
		if c == "" || len(c) > MaxColumnNameLen {
			return bad("column name must be 1 to %d characters", MaxColumnNameLen)
		}
	}
	return nil
}

// loadSourceItems checks the requester may use the source version and
// stores its records' chosen columns as the job's item texts.
func loadSourceItems(ctx *chain.Context, id uint64, m *MsgCreateJob) error {
	s := m.Source
	d, v, err := data.CanUse(ctx.KV, s.Dataset, s.Version, ctx.Sender)
	if err != nil {
		return err
	}
	if v.Count != uint64(m.ItemCount) {
		return chain.Wrap(chain.ErrInvalidRequest, "dataset %d version %d has %d records, the job says %d items", s.Dataset, s.Version, v.Count, m.ItemCount)
	}
	cols, err := data.ColumnIndexes(d, s.Columns)
	if err != nil {
		return err
	}
	rows, err := data.Rows(ctx.KV, s.Dataset, v.Count)
	if err != nil {
		return err
	}
	parts := make([]string, len(cols))
	for i, rec := range rows {
		for k, c := range cols {
			parts[k] = rec[c]
		}
		text := strings.Join(parts, ",")
		if text == "" || len(text) > MaxItemBytes {
			return chain.Wrap(chain.ErrInvalidRequest, "record %d of dataset %d shows as %d bytes: want 1 to %d", i, s.Dataset, len(text), MaxItemBytes)
		}
		if err := checkImageItem(m.ItemKind, i, text); err != nil {
			return fmt.Errorf("dataset %d version %d: %w", s.Dataset, s.Version, err)
		}
		ctx.KV.Set(textKey(id, uint32(i)), []byte(text))
	}
	return data.RecordEdge(ctx, s.Ref(), "label-job/"+chain.U64(id), data.RelLabels)
}

// exportResults turns a closed job over a dataset version into the
// labelled dataset; the annotators' qualities and pay go with it.
func exportResults(ctx *chain.Context, j *Job, res *Results, workers []Worker) error {
	s := j.Source
	raw, err := data.GetVersion(ctx.KV, s.Dataset, s.Version)
	if err != nil {
		return err
	}
	l := data.Labelled{Raw: raw, Job: j.ID, Owner: j.Requester, Name: s.Name, Labels: j.Labels,
		ItemLabels: make([]int32, len(res.Items)), Confidence: make([]uint32, len(res.Items)),
		Price: s.Price, CuratorBps: s.CuratorBps, AnnotatorBps: s.AnnotatorBps}
	for i, it := range res.Items {
		l.ItemLabels[i], l.Confidence[i] = it.Label, it.ConfidencePPM
	}
	for _, w := range workers {
		l.Qualities = append(l.Qualities, data.WorkerQuality{Worker: w.Address, ScorePPM: w.ScorePPM, Answers: w.Revealed, Paid: w.Paid})
	}
	id, err := data.PublishLabelled(ctx, l)
	if err != nil {
		return err
	}
	j.Labelled = id
	return nil
}

// CreateJob posts a labelling job as ctx.Sender, as the create-job message
// would (ValidateBasic included): the pipeline domain creates its labelling
// stage through it. It returns the job id.
func CreateJob(ctx *chain.Context, m *MsgCreateJob) (uint64, error) {
	ctx = ctx.Scoped("label") // called by other markets: write only our own keys
	if err := m.ValidateBasic(); err != nil {
		return 0, err
	}
	if err := createJob(ctx, m); err != nil {
		return 0, err
	}
	return chain.GetUint64(ctx.KV, keySeq), nil
}

// CloseJob closes a job as ctx.Sender, as the close message would.
func CloseJob(ctx *chain.Context, m *MsgClose) error {
	ctx = ctx.Scoped("label") // called by other markets: write only our own keys
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	return closeJob(ctx, m)
}
