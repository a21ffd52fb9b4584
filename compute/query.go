package compute

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// ProviderInfo is what queries show of a provider.
type ProviderInfo struct {
	Provider
	Stake         uint64 `json:"stake"`
	Live          bool   `json:"live"`
	ReputationBps uint64 `json:"reputation_bps"`
}

// PoolInfo is the spot-check pool.
type PoolInfo struct {
	Address        chain.Address `json:"address"`
	Balance        uint64        `json:"balance"`
	OpenSpotChecks uint64        `json:"open_spot_checks"`
	Verified       uint64        `json:"verified_jobs"`
}

// Default and largest page of the jobs query.
const (
	defaultJobsLimit = 100
	maxJobsLimit     = 1000
)

// Query answers, under /query/compute/:
//
//	providers | provider/<addr> | job/<id> | params | pool
//	(providers and provider/<addr> judge liveness against ?height=<h>,
//	the chain's current height, which state alone does not hold)
//	jobs?provider=<addr>   jobs where the provider holds an active assignment
//	jobs?status=<s>        running or challenge (open jobs), or any other status
//	jobs?tenant=<addr>&after=<id>&limit=<n>
func (Domain) Query(kv store.KV, path string, params map[string]string) (any, error) {
	kind, arg, _ := strings.Cut(path, "/")
	height := int64(0)
	if h, err := strconv.ParseInt(params["height"], 10, 64); err == nil {
		height = h // lets callers judge liveness; 0 means "unknown": everyone shown live
	}
	switch kind {
	case "params":
		return LoadParams(kv), nil
	case "pool":
		return PoolInfo{Address: SpotPool, Balance: chain.Balance(kv, SpotPool), OpenSpotChecks: chain.GetUint64(kv, keySpotOpen), Verified: chain.GetUint64(kv, keyVerifiedSeq)}, nil
	case "providers":
		out := []ProviderInfo{}
		var ps []Provider
		chain.Each(kv, prefixProvider, func(_ []byte, p Provider) bool {
			ps = append(ps, p)
			return true
		})
		for _, p := range ps {
			out = append(out, providerInfo(kv, p, height))
		}
		return out, nil
	case "provider":
		a, err := chain.ParseAddress(arg)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "%v", err)
		}
		p, ok := GetProvider(kv, a)
		if !ok {
			return nil, chain.Wrap(chain.ErrNotFound, "%s is not a registered compute provider", a)
		}
		return providerInfo(kv, p, height), nil
	case "job":
		id, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "job id %q", arg)
		}
		j, err := GetJob(kv, id)
		if err != nil {
			return nil, err
		}
		return j, nil
	case "jobs":
		return queryJobs(kv, params)
	}
	return nil, chain.Wrap(chain.ErrNotFound, "no compute query %q", path)
}

func providerInfo(kv store.KV, p Provider, height int64) ProviderInfo {
	ctx := &chain.Context{KV: kv}
	live := height == 0 || height-p.LastSeen <= LoadParams(kv).LivenessBlocks
	return ProviderInfo{Provider: p, Stake: chain.Bonded(ctx, p.Address, Pool), Live: live, ReputationBps: p.ReputationBps()}
}

func queryJobs(kv store.KV, params map[string]string) ([]Job, error) {
	limit := defaultJobsLimit
	if s := params["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "limit %q", s)
		}
		limit = min(n, maxJobsLimit)
	}
	var after uint64
	if s := params["after"]; s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "after %q", s)
		}
		after = n
	}
	var tenant chain.Address
	if s := params["tenant"]; s != "" {
		a, err := chain.ParseAddress(s)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "%v", err)
		}
		tenant = a
	}
	status := params["status"]

	// Pick the narrowest index: a provider's assignments, open jobs, or all.
	var ids []uint64
	collect := func(prefix []byte) {
		kv.Iterate(prefix, func(k, _ []byte) bool {
			id := binary.BigEndian.Uint64(k[len(k)-8:])
			if id > after {
				ids = append(ids, id)
			}
			return true
		})
	}
	switch {
	case params["provider"] != "":
		a, err := chain.ParseAddress(params["provider"])
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "%v", err)
		}
		collect(chain.Key(prefixAssign, a[:]))
	case status == StatusRunning || status == StatusChallenge || status == "open":
		collect(prefixOpen)
	default:
		collect(prefixJob)
	}
	out := []Job{}
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		j, err := GetJob(kv, id)
		if err != nil {
			continue
		}
		if status != "" && status != "open" && j.Status != status || !tenant.IsZero() && j.Tenant != tenant {
			continue
		}
		out = append(out, j)
	}
	return out, nil
}
