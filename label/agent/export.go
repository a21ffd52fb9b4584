package agent

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/label"
)

// FetchResults reads a closed job's results and checks that they are what
// the job's recorded CID names: the canonical encoding rebuilt from the
// query must hash to it.
func FetchResults(ctx context.Context, l Ledger, job uint64) (label.ResultsView, error) {
	var r label.ResultsView
	if err := l.Query(ctx, fmt.Sprintf("results/%d", job), nil, &r); err != nil {
		return r, fmt.Errorf("results of label job %d: %w", job, err)
	}
	if got := chain.BlobCID(label.EncodeResults(&r.Results)); got != r.CID {
		return r, fmt.Errorf("results of label job %d hash to %s, the job records %s", job, got, r.CID)
	}
	return r, nil
}

// UploadResults stores a closed job's canonical results encoding on the
// node as the blob the job's results CID names, and returns the CID; key
// signs the upload.
func UploadResults(ctx context.Context, c *client.Client, key ed25519.PrivKey, job uint64) (string, error) {
	r, err := FetchResults(ctx, ClientLedger{C: c}, job)
	if err != nil {
		return "", err
	}
	cid, err := c.BlobPut(ctx, key, label.EncodeResults(&r.Results))
	if err != nil {
		return "", fmt.Errorf("upload results of label job %d: %w", job, err)
	}
	return cid, nil
}

// ExportRow is one item of an export.
type ExportRow struct {
	Item       uint32 `json:"item"`
	Label      string `json:"label"` // empty: no answers
	LabelIndex int32  `json:"label_index"`
	Confidence string `json:"confidence"` // decimal, 6 places
	Votes      uint32 `json:"votes"`
	Gold       bool   `json:"gold"`
}

// Rows turns results into export rows with label names.
func Rows(r *label.Results) []ExportRow {
	out := make([]ExportRow, len(r.Items))
	for i, it := range r.Items {
		row := ExportRow{Item: it.Item, LabelIndex: it.Label, Votes: it.Votes, Gold: it.Gold,
			Confidence: fmt.Sprintf("%d.%06d", it.ConfidencePPM/1_000_000, it.ConfidencePPM%1_000_000)}
		if it.Label >= 0 && int(it.Label) < len(r.Labels) {
			row.Label = r.Labels[it.Label]
		}
		out[i] = row
	}
	return out
}

// ExportCSV writes results as CSV with a header row.
func ExportCSV(w io.Writer, r *label.Results) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"item", "label", "label_index", "confidence", "votes", "gold"})
	for _, row := range Rows(r) {
		cw.Write([]string{strconv.FormatUint(uint64(row.Item), 10), row.Label, strconv.Itoa(int(row.LabelIndex)),
			row.Confidence, strconv.FormatUint(uint64(row.Votes), 10), strconv.FormatBool(row.Gold)})
	}
	cw.Flush()
	return cw.Error()
}

// ExportJSONL writes results as one JSON object per item.
func ExportJSONL(w io.Writer, r *label.Results) error {
	enc := json.NewEncoder(w)
	for _, row := range Rows(r) {
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	return nil
}
