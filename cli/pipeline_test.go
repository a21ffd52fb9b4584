package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const specYAML = `name: digits
stages: [label, train, prove]
dataset: {dataset: 1, version: 1, columns: [p0, p1]}
label:
  title: which digit
  labels: ["0", "1"]
  item_kind: grid
  redundancy: 2
  max_redundancy: 3
  reward: 100
  deadline_blocks: 20
  reveal_blocks: 10
  grace_blocks: 10
  batch_size: 8
  max_per_worker: 8
  dataset_name: digits labelled
train:
  module: bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
  input_name: train.csv
  memory_bytes: 1048576
  fuel: 1000000
  wall_seconds: 10
  max_output_bytes: 1048576
  max_price: 1
  redundancy: 2
  timeout: 5
  deadline_blocks: 50
prove:
  test_set: "0x0000000000000000000000000000000000000000000000000000000000000001"
  min_accuracy_bps: 9000
  deadline_blocks: 40
`

func TestReadPipelineSpec(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(p, []byte(specYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := readPipelineSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Label == nil || s.Label.MaxRedundancy != 3 || s.Dataset.Columns[1] != "p1" || s.Prove.MinAccuracyBps != 9000 || s.Prove.TestSet[31] != 1 {
		t.Fatalf("spec %+v", s)
	}
	// A misspelt field or an unknown stage section is refused, not ignored.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(specYAML+"finetune: {epochs: 3}\n"), 0o644)
	if _, err := readPipelineSpec(bad); err == nil || !strings.Contains(err.Error(), "finetune") {
		t.Fatalf("unknown section: %v", err)
	}
}
