// Package gateway is the data market's download gateway: an HTTP route on
// one node that serves a dataset version to accounts holding a grant. It
// runs outside consensus (HTTP, the node's clock); the grants it checks are
// on-chain state of package data.
package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/api/ext"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/internal/httpguard"
)

// The data gateway serves a dataset version only to accounts holding a
// grant. A request proves its account by an ed25519 signature over
// GatewayMessage, sent in headers: the method, host, path and query it was
// sent with, a timestamp within GatewayClockSkew of the node's clock, and a
// fresh nonce the node remembers for the window, so a captured request can
// be neither replayed nor pointed at another dataset, version, format or
// node. This is node-side and off-chain: the grant it checks is on-chain
// state, the clock it reads is the node's own.
//
// Public storage (IPFS and the like) extends this without a trusted
// gateway: the curator encrypts each version with a fresh content key
// (XChaCha20-Poly1305), publishes the ciphertext under its CID, and for each
// grant wraps the content key to the buyer's key (X25519 derived from the
// buyer's ed25519 key, sealed-box style) in a small on-chain or blob record;
// anyone can host the ciphertext, only grantees can open it.

// GatewayClockSkew is how far a request's timestamp may be from the node's clock.
const GatewayClockSkew = 5 * time.Minute

// Header names of a signed gateway request.
const (
	HeaderPubKey    = "X-Tenun-Pubkey"
	HeaderTimestamp = "X-Tenun-Timestamp"
	HeaderNonce     = "X-Tenun-Nonce"
	HeaderSignature = "X-Tenun-Signature"
)

// GatewayMessage is what a downloader signs: the request as sent (method,
// host, path, and the query in canonical order) with its time and nonce.
func GatewayMessage(chainID, method, host, path string, query url.Values, unix int64, nonce string) []byte {
	return []byte(fmt.Sprintf("tenun/data-gateway/v2\n%s\n%s\n%s\n%s\n%s\n%d\n%s",
		chainID, method, strings.ToLower(host), path, query.Encode(), unix, nonce))
}

// SignGatewayRequest sets the headers that prove key's account on req: a
// signature over req's method, host, path and query, the time and a fresh
// nonce. Sign just before sending; the node accepts each nonce once.
func SignGatewayRequest(req *http.Request, key ed25519.PrivKey, chainID string, now time.Time) error {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return fmt.Errorf("gateway nonce: %w", err)
	}
	nonce := hex.EncodeToString(n[:])
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	sig, err := key.Sign(GatewayMessage(chainID, req.Method, host, req.URL.Path, req.URL.Query(), now.Unix(), nonce))
	if err != nil {
		return err
	}
	req.Header.Set(HeaderPubKey, hex.EncodeToString(key.PubKey().Bytes()))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, hex.EncodeToString(sig))
	return nil
}

// Extension is the gateway as a node HTTP extension.
type Extension struct{}

// RegisterHTTP serves GET /data/{id}/download?version=N&format=csv|jsonl.
// A download streams an export of the version (export.go) from disk,
// checked chunk by chunk, and answers Range requests.
func (Extension) RegisterHTTP(mux *http.ServeMux, host ext.Host) {
	seen := newNonceCache(maxNonces)
	dir, dirErr := host.Dir("data-gateway")
	ex := &exports{dir: dir}
	mux.HandleFunc("GET /data/{id}/download", func(w http.ResponseWriter, r *http.Request) {
		if dirErr != nil {
			writeErr(w, http.StatusServiceUnavailable, chain.Wrap(chain.ErrInternal, "the gateway has no export directory: %v", dirErr))
			return
		}
		serveDownload(w, r, host, seen, ex)
	})
}

// DownloadIdleTimeout is how long a download may go without progress (a
// large version takes as long as it needs).
var DownloadIdleTimeout = 30 * time.Second

func writeErr(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": err.Error(), "code": chain.CodeOf(err)})
}

func serveDownload(w http.ResponseWriter, r *http.Request, host ext.Host, seen *nonceCache, ex *exports) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "dataset id %q", r.PathValue("id")))
		return
	}
	kv, height, err := host.Snapshot()
	if err != nil {
		writeErr(w, http.StatusServiceUnavailable, err)
		return
	}
	d, err := data.GetDataset(kv, id)
	if err != nil {
		writeErr(w, http.StatusNotFound, err)
		return
	}
	// The gateway answers HTTP on one node, outside consensus: its clock
	// only bounds how long it remembers nonces.
	now := time.Now()
	buyer, nonce, err := authenticate(r, host.ChainID(), now)
	if err != nil {
		writeErr(w, http.StatusForbidden, err)
		return
	}
	g, ok := data.HasGrant(kv, id, buyer)
	if buyer == d.Owner && d.Versions > 0 {
		g, ok = data.Grant{Dataset: id, Buyer: buyer, Version: d.Versions}, true // the curator reads its own data
	}
	if scope := r.URL.Query().Get("scope"); scope != "" {
		// Compute-to-data: a provider assigned to a job reads the job's
		// input under the job's scoped grant, only while the job lasts.
		ver, err := strconv.ParseUint(r.URL.Query().Get("version"), 10, 64)
		if err == nil {
			err = data.ScopedAccess(kv, id, ver, scope, buyer, height)
		}
		if err != nil {
			writeErr(w, http.StatusForbidden, err)
			return
		}
		g, ok = data.Grant{Dataset: id, Buyer: buyer, Version: ver}, true
	}
	if !ok {
		writeErr(w, http.StatusForbidden, chain.Wrap(chain.ErrUnauthorized, "%s holds no grant to dataset %d: buy it first", buyer, id))
		return
	}
	// Only grantees' nonces are remembered, so strangers cannot fill the cache.
	switch err := seen.claim(buyer.String()+"/"+nonce, now, 2*GatewayClockSkew); {
	case errors.Is(err, errReplay):
		writeErr(w, http.StatusForbidden, chain.Wrap(chain.ErrUnauthorized, "replayed gateway request: nonce %s was used already", nonce))
		return
	case err != nil:
		w.Header().Set("Retry-After", "1")
		writeErr(w, http.StatusTooManyRequests, chain.Wrap(chain.ErrInvalidRequest, "%v", err))
		return
	}
	ver := g.Version
	if s := r.URL.Query().Get("version"); s != "" {
		if ver, err = strconv.ParseUint(s, 10, 64); err != nil || ver == 0 || ver > g.Version {
			writeErr(w, http.StatusForbidden, chain.Wrap(chain.ErrUnauthorized, "the grant covers versions up to %d", g.Version))
			return
		}
	}
	v, err := data.GetVersion(kv, id, ver)
	if err != nil {
		writeErr(w, http.StatusNotFound, err)
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "csv":
		format = "csv"
		w.Header().Set("Content-Type", "text/csv")
	case "jsonl":
		w.Header().Set("Content-Type", "application/x-ndjson")
	default:
		writeErr(w, http.StatusBadRequest, chain.Wrap(chain.ErrInvalidRequest, "format %q: want csv or jsonl", format))
		return
	}
	var columns []int
	if cols := r.URL.Query().Get("columns"); cols != "" {
		// A projection (a training job's input takes the columns it reads);
		// the Merkle root header still names the whole version.
		if columns, err = data.ColumnIndexes(d, strings.Split(cols, ",")); err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
	}
	x, err := ex.open(kv, host.Blob, d, v, format, columns)
	if err != nil {
		w.Header().Del("Content-Type")
		writeErr(w, http.StatusInternalServerError, chain.Wrap(chain.ErrInternal, "%v", err))
		return
	}
	defer x.Close()
	w.Header().Set("X-Tenun-Version", strconv.FormatUint(ver, 10))
	w.Header().Set("X-Tenun-Merkle-Root", v.Root.String())
	// The export's IPFS CID: a buyer can check the whole download against
	// it, or fetch the same bytes by it elsewhere.
	w.Header().Set("X-Tenun-CID", x.Index.Root.String())
	w.Header().Set("ETag", `"`+x.Index.Root.String()+`"`)
	http.ServeContent(httpguard.WriteWhileMoving(w, DownloadIdleTimeout), r, "", time.Time{}, httpguard.AbortOnReadError(x.Reader))
}

func authenticate(r *http.Request, chainID string, now time.Time) (chain.Address, string, error) {
	pub, err1 := hex.DecodeString(r.Header.Get(HeaderPubKey))
	sig, err2 := hex.DecodeString(r.Header.Get(HeaderSignature))
	ts, err3 := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	nonce := r.Header.Get(HeaderNonce)
	if err1 != nil || err2 != nil || err3 != nil || len(pub) != ed25519.PubKeySize || len(nonce) < 16 || len(nonce) > 64 {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "unsigned request: send %s, %s, %s (16 to 64 characters) and %s", HeaderPubKey, HeaderTimestamp, HeaderNonce, HeaderSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > GatewayClockSkew || d < -GatewayClockSkew {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "request timestamp is %v from the node's clock", d.Round(time.Second))
	}
	if !ed25519.PubKey(pub).VerifySignature(GatewayMessage(chainID, r.Method, r.Host, r.URL.Path, r.URL.Query(), ts, nonce), sig) {
		return chain.Address{}, "", chain.Wrap(chain.ErrUnauthorized, "bad signature on the gateway request (it covers the method, host, path, query, time and nonce)")
	}
	return chain.AddressFromPubKey(pub), nonce, nil
}
