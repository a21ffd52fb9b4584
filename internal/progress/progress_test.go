package progress

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Off a terminal the bar is plain periodic lines with count, rate and time left.
func TestPlainLines(t *testing.T) {
	old := Interval
	Interval = 20 * time.Millisecond
	defer func() { Interval = old }()
	var w syncBuf
	b := New(&w, 100, "contribute", "records")
	for i := 0; i < 5; i++ {
		b.Add(10)
		time.Sleep(30 * time.Millisecond)
	}
	b.Finish()
	out := w.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 || !strings.Contains(out, "contribute: ") || !strings.Contains(out, "/100 records (") || !strings.Contains(out, "records/s") || !strings.Contains(out, "left") {
		t.Fatalf("plain progress:\n%s", out)
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "\x1b[") {
		t.Fatalf("terminal control codes off a terminal:\n%q", out)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "contribute: 50/100") {
		t.Fatalf("last line %q", last)
	}
	n := strings.Count(out, "\n")
	time.Sleep(60 * time.Millisecond)
	if strings.Count(w.String(), "\n") != n {
		t.Fatal("lines after Finish")
	}
}

// Phases print which step runs, and the step count.
func TestPlainPhases(t *testing.T) {
	var w syncBuf
	b := Phases(&w, "zk setup", 2)
	b.Phase("load")
	b.Phase("setup")
	b.Finish()
	out := w.String()
	for _, want := range []string{"zk setup: [1/2] load", "zk setup: [2/2] setup", "zk setup: done in 2 steps"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
}

// On a pseudo-terminal it is an animated bar with rate and ETA.
func TestTerminalBar(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var got syncBuf
	done := make(chan struct{})
	go func() { io.Copy(&got, ptmx); close(done) }()
	if !IsTerminal(tty) {
		t.Fatal("a pty is not a terminal")
	}
	b := New(tty, 50, "contribute", "records")
	for i := 0; i < 5; i++ {
		b.Add(10)
		time.Sleep(120 * time.Millisecond)
	}
	b.Finish()
	tty.Close()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	out := got.String()
	if !strings.Contains(out, "\r") || !strings.Contains(out, "contribute") || !strings.Contains(out, "50/50") || !strings.Contains(out, "records/s") {
		t.Fatalf("terminal bar:\n%q", out)
	}
}
