// Package agent is the client side of model subnets: the miner, an HTTP
// server that answers predictions with a quantized model, and the
// validator, a loop that scores miners on the subnet's evaluation data set
// and sets weights (by commit-reveal when the subnet asks for it). It is
// not consensus code.
package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/httpguard"
	"github.com/tenun-chain/tenun/subnet"
)

// Predictor labels one input row. *model.Model of zkml/model is one.
type Predictor interface {
	Predict(x []int) (int, error)
}

// PredictRequest is the body of POST /predict: rows of integer features
// (for the digits task, 64 pixel values 0..16 each).
type PredictRequest struct {
	Inputs [][]int `json:"inputs"`
}

// PredictResponse is its answer: one label per row.
type PredictResponse struct {
	Labels []int `json:"labels"`
}

// Limits of the predict API: one request is at most this many rows and bytes.
const (
	MaxPredictRows  = 1024
	MaxPredictBytes = 4 << 20
)

// MinerHandler serves POST /predict with p, and GET /health.
func MinerHandler(p Predictor) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /predict", func(w http.ResponseWriter, r *http.Request) {
		var req PredictRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxPredictBytes))
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decode request: " + err.Error()})
			return
		}
		if len(req.Inputs) == 0 || len(req.Inputs) > MaxPredictRows {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("send 1 to %d input rows", MaxPredictRows)})
			return
		}
		res := PredictResponse{Labels: make([]int, len(req.Inputs))}
		for i, x := range req.Inputs {
			y, err := p.Predict(x)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("row %d: %v", i, err)})
				return
			}
			res.Labels[i] = y
		}
		writeJSON(w, http.StatusOK, res)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Miner serves a model and registers its endpoint in a subnet.
type Miner struct {
	Client *client.Client
	Key    ed25519.PrivKey
	Subnet uint64
	Model  Predictor
	// Listen is the address to serve on ("127.0.0.1:0" picks a port).
	Listen string
	// Endpoint is the URL registered on chain; empty means
	// http://<the address actually listened on>.
	Endpoint string
	// Stake is bonded at registration (0: the subnet's registration minimum).
	Stake uint64
	// Serves is the entered model (its seq in the subnet, 0: none) this
	// miner registers serving; part of its emission then flows back to it.
	Serves uint64
	Logf   func(format string, args ...any)

	srv *http.Server
}

// Start listens, serves in the background and registers the miner (unless
// its account already is). It returns the uid and the registered endpoint.
func (m *Miner) Start(ctx context.Context) (uint16, string, error) {
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return 0, "", fmt.Errorf("miner: listen on %s: %w", m.Listen, err)
	}
	endpoint := m.Endpoint
	if endpoint == "" {
		endpoint = "http://" + ln.Addr().String()
	}
	// Validators' requests are small; the guard's timeouts and connection
	// cap keep slow or idle clients from holding the miner open.
	m.srv = httpguard.Serve(ln, MinerHandler(m.Model), httpguard.Local, func(err error) { m.logf("miner: serve: %v", err) })
	uid, err := Register(ctx, m.Client, m.Key, &subnet.MsgRegister{Subnet: m.Subnet, Role: subnet.RoleMiner, Stake: m.Stake, Endpoint: endpoint, Model: m.Serves})
	if err != nil {
		m.srv.Close()
		return 0, "", err
	}
	m.logf("miner uid %d of subnet %d serving at %s", uid, m.Subnet, endpoint)
	return uid, endpoint, nil
}

// Stop shuts the server down.
func (m *Miner) Stop() error {
	if m.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}

// Run starts the miner and serves until ctx is done.
func (m *Miner) Run(ctx context.Context) error {
	if _, _, err := m.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return m.Stop()
}

func (m *Miner) logf(format string, args ...any) {
	if m.Logf != nil {
		m.Logf(format, args...)
	}
}

// Info fetches a subnet's record.
func Info(ctx context.Context, c *client.Client, id uint64) (subnet.Info, error) {
	var info subnet.Info
	if err := c.Query(ctx, "subnet", fmt.Sprintf("info/%d", id), nil, &info); err != nil {
		return info, fmt.Errorf("subnet %d info: %w", id, err)
	}
	return info, nil
}

// Metagraph fetches a subnet's uids.
func Metagraph(ctx context.Context, c *client.Client, id uint64) ([]subnet.MetagraphEntry, error) {
	var mg []subnet.MetagraphEntry
	if err := c.Query(ctx, "subnet", fmt.Sprintf("metagraph/%d", id), nil, &mg); err != nil {
		return nil, fmt.Errorf("subnet %d metagraph: %w", id, err)
	}
	return mg, nil
}

// FindUID returns account a's entry in the metagraph.
func FindUID(mg []subnet.MetagraphEntry, a chain.Address) (subnet.MetagraphEntry, bool) {
	for _, n := range mg {
		if n.Account == a {
			return n, true
		}
	}
	return subnet.MetagraphEntry{}, false
}

// Register sends msg (registration in msg.Subnet as msg.Role) unless key
// already holds a uid there, and returns its uid. Stake 0 bonds the
// subnet's minimum for the role, less what the account has bonded already.
func Register(ctx context.Context, c *client.Client, key ed25519.PrivKey, msg *subnet.MsgRegister) (uint16, error) {
	id, role, stake := msg.Subnet, msg.Role, msg.Stake
	mg, err := Metagraph(ctx, c, id)
	if err != nil {
		return 0, err
	}
	if n, ok := FindUID(mg, addressOf(key)); ok {
		if n.Role != role {
			return 0, fmt.Errorf("account %s is already uid %d of subnet %d as a %s, not a %s", n.Account, n.UID, id, n.Role, role)
		}
		return n.UID, nil
	}
	if stake == 0 {
		info, err := Info(ctx, c, id)
		if err != nil {
			return 0, err
		}
		need := info.RegistrationMinStake
		if role == subnet.RoleValidator {
			need = max(need, info.ValidatorMinStake)
		}
		need = max(need, 1)
		acct, err := c.Account(ctx, addressOf(key))
		if err != nil {
			return 0, fmt.Errorf("read account: %w", err)
		}
		var have uint64
		for _, s := range acct.Stakes {
			if s.Pool == subnet.Pool(id) {
				have = s.Amount
			}
		}
		if have < need {
			stake = need - have
		}
	}
	reg := *msg
	reg.Stake = stake
	res, err := c.Submit(ctx, key, &reg, client.Options{})
	if err != nil {
		return 0, fmt.Errorf("register as %s in subnet %d: %w", role, id, err)
	}
	for _, e := range res.Events {
		if e.Type != "subnet_register" {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == "uid" {
				var uid uint16
				if _, err := fmt.Sscan(a.Value, &uid); err == nil {
					return uid, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("register in subnet %d: no uid in the transaction's events", id)
}
