package compute

import (
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/data"
)

// Compute-to-data: a job can read data-market dataset versions. The chain
// checks at posting that the tenant curates each dataset or holds a grant
// to it, records the lineage edge, and opens the version to the job's
// assigned providers through a grant scoped to the job that expires with
// its deadline; the providers fetch it from the signed gateway
// (GET /data/{id}/download?version=V&scope=compute-job/N) and mount it as
// Name. The tenant gets the job's output, never a copy of the data.

// DataInput is a dataset version mounted read-only as Name (CSV with a
// header row, as the gateway serves it).
type DataInput struct {
	Name    string `json:"name" cbor:"1,keyasint"`
	Dataset uint64 `json:"dataset" cbor:"2,keyasint"`
	Version uint64 `json:"version" cbor:"3,keyasint"`
	// Columns the job reads, in this order (empty: all); the gateway
	// serves only these.
	Columns []string `json:"columns,omitempty" cbor:"4,keyasint,omitempty"`
}

// MaxDataColumns bounds the columns a dataset input names.
const MaxDataColumns = 256

// Scope is the scope of a job's data grants.
func Scope(job uint64) string { return "compute-job/" + chain.U64(job) }

func validateDataInputs(in []DataInput, files []Input) error {
	if len(in)+len(files) > MaxInputs {
		return chain.Wrap(chain.ErrInvalidRequest, "%d inputs and %d dataset inputs, limit %d in all", len(files), len(in), MaxInputs)
	}
	for i, d := range in {
		if err := validInputName(d.Name); err != nil {
			return err
		}
		if len(d.Columns) > MaxDataColumns {
			return chain.Wrap(chain.ErrInvalidRequest, "dataset input %q: %d columns, at most %d", d.Name, len(d.Columns), MaxDataColumns)
		}
		for _, c := range d.Columns {
			if c == "" || len(c) > MaxInputName || strings.ContainsRune(c, ',') {
				return chain.Wrap(chain.ErrInvalidRequest, "dataset input %q: column name %q", d.Name, c)
			}
		}
		if d.Version == 0 {
			return chain.Wrap(chain.ErrInvalidRequest, "dataset input %q: version must be 1 or more", d.Name)
		}
		if i > 0 && d.Name <= in[i-1].Name {
			return chain.Wrap(chain.ErrInvalidRequest, "dataset inputs must be sorted by name with no duplicates (%q after %q)", d.Name, in[i-1].Name)
		}
		for _, f := range files {
			if f.Name == d.Name || strings.HasPrefix(f.Name, d.Name+"/") || strings.HasPrefix(d.Name, f.Name+"/") {
				return chain.Wrap(chain.ErrInvalidRequest, "dataset input %q collides with input %q", d.Name, f.Name)
			}
		}
	}
	return nil
}

// openDataInputs checks the tenant may use each dataset input of job j,
// grants the job's scope access until its deadline, and records lineage.
func openDataInputs(ctx *chain.Context, j *Job) error {
	for _, d := range j.Data {
		if err := data.GrantScoped(ctx, d.Dataset, d.Version, Scope(j.ID), j.Tenant, j.Deadline); err != nil {
			return err
		}
		if err := data.RecordEdge(ctx, data.DatasetRef(d.Dataset, d.Version), Scope(j.ID), data.RelInput); err != nil {
			return err
		}
	}
	return nil
}

// scopeMember: the providers holding a live assignment of a job that has
// not ended may read its data inputs.
func scopeMember(kv store.KV, scope string, a chain.Address) bool {
	id, err := strconv.ParseUint(strings.TrimPrefix(scope, "compute-job/"), 10, 64)
	if err != nil {
		return false
	}
	j, err := GetJob(kv, id)
	if err != nil || j.final() {
		return false
	}
	for i := range j.Assignments {
		if x := &j.Assignments[i]; x.Provider == a && (x.active() || x.Status == AssignRevealed) {
			return true
		}
	}
	return false
}

func init() { data.RegisterScope("compute-job", scopeMember) }

// PostJob posts a job as ctx.Sender, as the post-job message would
// (ValidateBasic included): the pipeline domain posts its training stage
// through it. It returns the job id.
func PostJob(ctx *chain.Context, m *MsgPostJob) (uint64, error) {
	ctx = ctx.Scoped("compute") // called by other markets: write only our own keys
	if err := m.ValidateBasic(); err != nil {
		return 0, err
	}
	if err := postJob(ctx, m); err != nil {
		return 0, err
	}
	return chain.GetUint64(ctx.KV, keyNextJob), nil
}
