package logging_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/internal/logging"
)

func TestJSONAndModuleLevels(t *testing.T) {
	var buf bytes.Buffer
	l, err := logging.New(&buf, "consensus:debug,*:info", logging.FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	l.With("module", "consensus").Debug("kept", "height", 7)
	l.With("module", "p2p").Debug("dropped")
	l.With("module", "tenun").Info("block", "height", 8)
	sc := bufio.NewScanner(&buf)
	var msgs []string
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		msgs = append(msgs, line["msg"].(string)+"/"+line["module"].(string))
	}
	if got := strings.Join(msgs, " "); got != "kept/consensus block/tenun" {
		t.Fatalf("lines %q", got)
	}
	buf.Reset()
	l, _ = logging.New(&buf, "error", logging.FormatPlain)
	l.Info("quiet")
	l.Error("loud", "err", "x")
	if s := buf.String(); strings.Contains(s, "quiet") || !strings.Contains(s, "msg=loud") {
		t.Fatalf("plain at error: %q", s)
	}
	if _, err := logging.New(&buf, "info", "xml"); err == nil {
		t.Fatal("unknown format accepted")
	}
	if _, err := logging.New(&buf, "consensus:loud", logging.FormatPlain); err == nil {
		t.Fatal("bad level accepted")
	}
}
