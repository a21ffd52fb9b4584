package label

import (
	"strconv"
	"strings"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Domain is the annotation market's chain domain.
type Domain struct{}

func (Domain) Name() string { return "label" }

func (Domain) Register(r *chain.Router) {
	chain.Handle(r, createJob)
	chain.Handle(r, join)
	chain.Handle(r, more)
	chain.Handle(r, commit)
	chain.Handle(r, reveal)
	chain.Handle(r, closeJob)
}

// EndBlock settles jobs whose requester let the grace period pass.
func (Domain) EndBlock(ctx *chain.Context) error { return endBlock(ctx) }

// TaskView is a task as the tasks query shows it, with what a labeling
// page needs: the item's text (inline jobs) and whether its answers may be
// revealed (Sealed: every worker assigned to the item has committed; after
// the job's commit_end every commit may be revealed anyway).
type TaskView struct {
	Task
	Text   string `json:"text,omitempty"`
	Sealed bool   `json:"sealed"`
}

// TasksView answers tasks/<id>?worker=ADDR.
type TasksView struct {
	Job    Job        `json:"job"`
	Worker *Worker    `json:"worker"` // nil: not joined
	InUse  uint64     `json:"in_use"` // the worker's stake backing open jobs
	Tasks  []TaskView `json:"tasks"`
}

// ResultsView answers results/<id>.
type ResultsView struct {
	Results
	CID     string   `json:"cid"`
	Status  string   `json:"status"`
	Workers []Worker `json:"workers"`
}

// MaxJobsListed bounds the jobs query.
const MaxJobsListed = 500

// Query answers: jobs[?status=open] | job/<id> | tasks/<id>?worker=ADDR |
// feedback/<id>?worker=ADDR | results/<id> | items/<id>?from=N&n=M (inline item texts).
func (Domain) Query(kv store.KV, path string, params map[string]string) (any, error) {
	kind, arg, _ := strings.Cut(path, "/")
	if kind == "jobs" {
		out := []Job{}
		chain.Each(kv, prefixJob, func(_ []byte, j Job) bool {
			if params["status"] == "" || params["status"] == j.Status {
				out = append(out, j)
			}
			return len(out) < MaxJobsListed
		})
		return out, nil
	}
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		return nil, chain.Wrap(chain.ErrInvalidRequest, "label job id %q: want a number", arg)
	}
	j, err := GetJob(kv, id)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "job":
		return j, nil
	case "tasks":
		a, err := chain.ParseAddress(params["worker"])
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "tasks/%d needs ?worker=ADDRESS: %v", id, err)
		}
		v := TasksView{Job: j, InUse: InUse(kv, a), Tasks: []TaskView{}}
		if w, ok := GetWorker(kv, id, a); ok {
			v.Worker = &w
		}
		for _, t := range WorkerTasks(kv, id, a) {
			it := getItem(kv, &j, t.Item)
			tv := TaskView{Task: t, Sealed: it.Committed >= it.Assigned}
			if j.ItemsCID == "" {
				tv.Text = ItemText(kv, id, t.Item)
			}
			v.Tasks = append(v.Tasks, tv)
		}
		return v, nil
	case "feedback":
		a, err := chain.ParseAddress(params["worker"])
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "feedback/%d needs ?worker=ADDRESS: %v", id, err)
		}
		w, ok := GetWorker(kv, id, a)
		if !ok {
			return nil, chain.Wrap(chain.ErrNotFound, "%s has not joined label job %d", a, id)
		}
		return WorkerFeedback(kv, &j, &w), nil
	case "results":
		r, err := GetResults(kv, id)
		if err != nil {
			return nil, err
		}
		return ResultsView{Results: r, CID: j.ResultsCID, Status: j.Status, Workers: Workers(kv, &j)}, nil
	case "items":
		// Inline item texts, for pages and exports: ?from=N&n=M (at most MaxBatch).
		from, _ := strconv.ParseUint(params["from"], 10, 32)
		n, _ := strconv.ParseUint(params["n"], 10, 32)
		if n == 0 || n > MaxBatch {
			n = MaxBatch
		}
		out := []string{}
		for i := from; i < uint64(j.ItemCount) && i < from+n && j.ItemsCID == ""; i++ {
			out = append(out, ItemText(kv, id, uint32(i)))
		}
		return map[string]any{"job": id, "from": from, "items": out}, nil
	}
	return nil, chain.Wrap(chain.ErrNotFound, "no label query %q", path)
}
