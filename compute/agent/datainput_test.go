package agent_test

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"testing"

	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/workload"
	"github.com/tenun-chain/tenun/data"
	dataagent "github.com/tenun-chain/tenun/data/agent"
)

// copyInputs copies every input file to the output directory: the job's
// output is exactly what the provider was given to read.
const copyInputs = `package main

import (
	"os"
	"path/filepath"
)

func main() {
	entries, err := os.ReadDir("/in")
	if err != nil {
		os.Exit(1)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/in", e.Name()))
		if err != nil {
			os.Exit(2)
		}
		if err := os.WriteFile(filepath.Join("/out", e.Name()), b, 0o644); err != nil {
			os.Exit(3)
		}
	}
}
`

// Compute-to-data: a job reads a data-market version the tenant curates.
// The assigned providers fetch it through the signed gateway under the
// job's scoped grant and run on it; the tenant gets the output; an
// account that is not assigned is refused the same download.
func TestScenarioProvidersReadDatasetInputs(t *testing.T) {
	s := newScenario(t, 4)
	tenant, p1, p2, stranger := 0, 1, 2, 3
	path, err := workload.BuildWasm("", "copy-inputs", []byte(copyInputs))
	if err != nil {
		t.Fatal(err)
	}
	module, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, key := s.net.Client, s.net.Keys[tenant]
	submit := func(msg interface {
		Type() string
		ValidateBasic() error
	}) {
		t.Helper()
		if _, err := c.Submit(s.ctx, key, msg, client.Options{}); err != nil {
			t.Fatalf("%s: %v", msg.Type(), err)
		}
	}
	submit(&data.MsgCreate{Name: "plates", Price: 1000, MaxBatch: 10, Schema: []data.Column{
		{Name: "plate", Type: data.TypeString, Required: true, MaxLen: 16}, {Name: "km", Type: data.TypeInt}}})
	submit(&data.MsgContribute{Dataset: 1, Records: [][]string{{"B 1234 XY", "12"}, {"D 77 AB", "3"}, {"L 9 Q", "140"}}})
	submit(&data.MsgSnapshot{Dataset: 1})
	modCID, err := c.RegisterBlob(s.ctx, key, module)
	if err != nil {
		t.Fatal(err)
	}
	s.startProvider(p1, agent.CheatNone)
	s.startProvider(p2, agent.CheatNone)
	res, err := c.Submit(s.ctx, key, &compute.MsgPostJob{
		Spec:     compute.Spec{Module: modCID, MemoryBytes: sandbox.DefaultMemoryBytes, Fuel: 50 * compute.FuelPerUnit, WallSeconds: 60, MaxOutputBytes: 1 << 20},
		Data:     []compute.DataInput{{Name: "plates.csv", Dataset: 1, Version: 1, Columns: []string{"plate"}}},
		MaxPrice: jobPrice, Redundancy: 2, Timeout: 200, DeadlineBlocks: 4000,
	}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var id uint64
	for _, e := range res.Events {
		for _, a := range e.Attrs {
			if e.Type == "compute_job" && a.Key == "id" {
				id, _ = strconv.ParseUint(a.Value, 10, 64)
			}
		}
	}
	j := s.waitJob(id, compute.StatusSettled)
	archive, err := c.BlobGet(s.ctx, j.Result.Output)
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := sandbox.UnpackArchive(archive)
	if err != nil {
		t.Fatal(err)
	}
	// What the providers read is the projection the job asked for, as the
	// curator downloads it.
	want, err := dataagent.DownloadScoped(s.ctx, c, key, 1, 1, "csv", "", []string{"plate"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(outputs["plates.csv"], want) || !bytes.Contains(want, []byte("D 77 AB")) || bytes.Contains(want, []byte("140")) {
		t.Fatalf("the job read %q, the gateway serves the curator %q", outputs["plates.csv"], want)
	}
	for _, a := range j.Assignments {
		if a.Verdict != compute.VerdictPaid {
			t.Errorf("assignment %+v", a)
		}
	}
	// Not assigned: refused, though it names the job's scope.
	_, err = dataagent.DownloadScoped(s.ctx, c, s.net.Keys[stranger], 1, 1, "csv", compute.Scope(id), nil)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 403 {
		t.Fatalf("a stranger's scoped download: %v", err)
	}
}
