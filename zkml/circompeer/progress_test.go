package circompeer

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The script's progress lines reach the log (throttled), everything else
// only the buffer kept for error messages.
func TestProgressTee(t *testing.T) {
	var logged []string
	r := &Runner{Log: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }}
	var buf bytes.Buffer
	p := &progressTee{r: r, buf: &buf}
	p.Write([]byte("warning: x\nprogress ptau 2^16 1/3 new accumulator: tauG1: 0/65536\nprog"))
	p.Write([]byte("ress ptau 2^16 1/3 new accumulator: tauG1: 1/65536\n"))
	if len(logged) != 1 || !strings.Contains(logged[0], "tauG1: 0/65536") {
		t.Fatalf("logged %q, want the first progress line only (throttle)", logged)
	}
	if !strings.Contains(buf.String(), "warning: x") || !strings.Contains(buf.String(), "1/65536") {
		t.Fatalf("stderr kept %q", buf.String())
	}
}
