package labels

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/tenun-chain/tenun/label/truth"
	"github.com/tenun-chain/tenun/label/workforce"
)

var update = flag.Bool("update", false, "rewrite the sets from the generator")

// The shipped files are exactly what the generator makes from Seed (run
// `go test ./datasets/labels -update` after changing it), and they load.
func TestSetsMatchGenerator(t *testing.T) {
	gen := map[string]func(uint64) (*truth.TypedSet, error){
		"rating-synth": workforce.SynthRatings, "multi-synth": workforce.SynthMulti, "box-synth": workforce.SynthBoxes,
	}
	for _, name := range Sets {
		s, err := gen[name](Seed)
		if err != nil {
			t.Fatal(err)
		}
		var ans, tr bytes.Buffer
		if err := truth.WriteTyped(s, &ans, &tr); err != nil {
			t.Fatal(err)
		}
		task, _ := json.Marshal(s.Task)
		want := map[string][]byte{"task.json": append(task, '\n'), "answers.csv": ans.Bytes(), "truth.csv": tr.Bytes()}
		for file, b := range want {
			if *update {
				if err := os.MkdirAll(name, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(name, file), b, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := fs.ReadFile(FS(), name+"/"+file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, b) {
				t.Errorf("%s/%s differs from the generator's output (run with -update)", name, file)
			}
		}
		if *update {
			continue
		}
		l, err := truth.LoadTyped(FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if l.Task.Kind != s.Task.Kind || len(l.ItemIDs) != len(s.ItemIDs) || len(l.WorkerIDs) != len(s.WorkerIDs) {
			t.Errorf("%s loaded as %+v with %d items, %d workers", name, l.Task, len(l.ItemIDs), len(l.WorkerIDs))
		}
	}
}
