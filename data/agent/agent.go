// Package agent is the client side of the data market: the contributor
// agent that streams records into a dataset, and the gateway download.
package agent

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/data/gateway"
)

// Source yields records one at a time; io.EOF ends it.
type Source interface {
	Next() ([]string, error)
}

// CSVSource reads records from CSV, skipping a header row when asked.
type CSVSource struct {
	r *csv.Reader
}

// NewCSVSource reads from r; with header, the first row is skipped.
func NewCSVSource(r io.Reader, header bool) (*CSVSource, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // the chain judges record shape, and says why
	if header {
		if _, err := cr.Read(); err != nil {
			return nil, fmt.Errorf("read CSV header: %w", err)
		}
	}
	return &CSVSource{r: cr}, nil
}

func (s *CSVSource) Next() ([]string, error) { return s.r.Read() }

// VehicleSchema is the schema of the synthetic vehicle telemetry feed.
func VehicleSchema() []data.Column {
	return []data.Column{
		{Name: "vehicle", Type: data.TypeString, Required: true, MaxLen: 32},
		{Name: "time", Type: data.TypeInt, Required: true, Min: "0"},
		{Name: "lat", Type: data.TypeDecimal, Required: true, Min: "-90", Max: "90"},
		{Name: "lon", Type: data.TypeDecimal, Required: true, Min: "-180", Max: "180"},
		{Name: "speed_kmh", Type: data.TypeDecimal, Required: true, Min: "0", Max: "300"},
	}
}

// VehicleFeed is a synthetic telemetry feed: a vehicle driving around a
// start point, one reading per second of simulated time.
type VehicleFeed struct {
	ID       string
	rng      *rand.Rand
	t        int64
	lat, lon int64 // micro-degrees
	speed    int64 // milli-km/h
	left     int
}

// NewVehicleFeed returns a feed of n readings for vehicle id from seed.
func NewVehicleFeed(id string, seed uint64, start int64, n int) *VehicleFeed {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &VehicleFeed{ID: id, rng: rng, t: start, lat: -6_200_000 + rng.Int64N(100_000), lon: 106_800_000 + rng.Int64N(100_000), speed: 40_000, left: n}
}

func micro(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%06d", sign, v/1_000_000, v%1_000_000)
}

func (f *VehicleFeed) Next() ([]string, error) {
	if f.left == 0 {
		return nil, io.EOF
	}
	f.left--
	f.t++
	f.speed = max(0, min(130_000, f.speed+f.rng.Int64N(6_000)-3_000))
	f.lat += f.rng.Int64N(200) - 100
	f.lon += f.rng.Int64N(200) - 100
	return []string{f.ID, strconv.FormatInt(f.t, 10), micro(f.lat), micro(f.lon), fmt.Sprintf("%d.%03d", f.speed/1000, f.speed%1000)}, nil
}

// ContributeStats is what a contributor agent achieved.
type ContributeStats struct {
	Batches  int `json:"batches"`
	Sent     int `json:"sent"`
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	// LastRejection is why the chain refused the last batch it refused whole.
	LastRejection string `json:"last_rejection,omitempty"`
}

// SubmitBatch uploads a batch's blob under the raw CID the chain computes
// for it (the gateway serves records from it)
// and submits it to dataset.
func SubmitBatch(ctx context.Context, c *client.Client, key ed25519.PrivKey, dataset uint64, records [][]string) (api.TxResponse, error) {
	if _, err := c.BlobPutRaw(ctx, key, data.EncodeBatch(records)); err != nil {
		return api.TxResponse{}, fmt.Errorf("upload batch: %w", err)
	}
	return c.Submit(ctx, key, &data.MsgContribute{Dataset: dataset, Records: records}, client.Options{})
}

// Contribute streams records from src to dataset in batches of batchSize:
// each batch is uploaded as a blob (for the gateway) and submitted.
func Contribute(ctx context.Context, c *client.Client, key ed25519.PrivKey, dataset uint64, src Source, batchSize int) (ContributeStats, error) {
	return ContributeWith(ctx, c, key, dataset, src, batchSize, nil)
}

// ContributeWith is Contribute that reports the totals after each batch
// (for a progress bar). A batch the chain refuses whole counts as
// rejected, except when no batch can succeed (the dataset does not exist,
// or the signer may not contribute): then it stops with that error.
func ContributeWith(ctx context.Context, c *client.Client, key ed25519.PrivKey, dataset uint64, src Source, batchSize int, onBatch func(ContributeStats)) (ContributeStats, error) {
	var st ContributeStats
	var batch [][]string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := SubmitBatch(ctx, c, key, dataset, batch)
		st.Batches++
		st.Sent += len(batch)
		if err != nil {
			if te, ok := err.(*client.TxError); ok {
				if te.Res.Code == chain.ErrNotFound.Code || te.Res.Code == chain.ErrUnauthorized.Code {
					return fmt.Errorf("dataset %d: %w", dataset, err)
				}
				st.Rejected += len(batch) // the whole batch was refused
				st.LastRejection = te.Res.Log
				batch = nil
				if onBatch != nil {
					onBatch(st)
				}
				return nil
			}
			return err
		}
		for _, e := range res.Events {
			if e.Type == "data_contribute" {
				for _, a := range e.Attrs {
					n, _ := strconv.Atoi(a.Value)
					switch a.Key {
					case "accepted":
						st.Accepted += n
					case "rejected":
						st.Rejected += n
					}
				}
			}
		}
		batch = nil
		if onBatch != nil {
			onBatch(st)
		}
		return nil
	}
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, err
		}
		batch = append(batch, rec)
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	return st, flush()
}

// Download fetches a dataset version (0: the granted one) through the
// node's gateway, signing the request with key. format is csv or jsonl.
func Download(ctx context.Context, c *client.Client, key ed25519.PrivKey, dataset, version uint64, format string) ([]byte, error) {
	return DownloadScoped(ctx, c, key, dataset, version, format, "", nil)
}

// MaxDownloadBytes bounds a version Download reads into memory.
const MaxDownloadBytes = 4 << 30

// DownloadScoped is Download under a scoped grant (scope names the job,
// e.g. compute-job/7, whose assigned providers may read the version while
// it runs), projected onto columns when given.
func DownloadScoped(ctx context.Context, c *client.Client, key ed25519.PrivKey, dataset, version uint64, format, scope string, columns []string) ([]byte, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	q := url.Values{"format": {format}}
	if version > 0 {
		q.Set("version", strconv.FormatUint(version, 10))
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	if len(columns) > 0 {
		q.Set("columns", strings.Join(columns, ","))
	}
	u := fmt.Sprintf("%s/data/%d/download?%s", c.Base(), dataset, q.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if err := gateway.SignGatewayRequest(req, key, chainID, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download dataset %d: %w", dataset, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return nil, &client.APIError{Status: resp.StatusCode, Msg: fmt.Sprintf("download dataset %d: HTTP %d: %s", dataset, resp.StatusCode, body)}
	}
	// The gateway sends Content-Length: read into one buffer of that size
	// instead of growing one (a large version would be copied again and
	// again), and refuse a body that is not as long as it said.
	if resp.ContentLength < 0 || resp.ContentLength > MaxDownloadBytes {
		return nil, fmt.Errorf("download dataset %d: the gateway announced %d bytes (at most %d are read into memory; stream larger versions)", dataset, resp.ContentLength, int64(MaxDownloadBytes))
	}
	body := make([]byte, resp.ContentLength)
	if _, err := io.ReadFull(resp.Body, body); err != nil {
		return nil, fmt.Errorf("download dataset %d: %w", dataset, err)
	}
	return body, nil
}
