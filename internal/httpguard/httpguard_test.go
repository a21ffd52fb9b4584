package httpguard_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/internal/httpguard"
)

// testLimits are Default's shape with timeouts short enough for a test.
var testLimits = httpguard.Limits{
	ReadHeaderTimeout: 300 * time.Millisecond,
	ReadTimeout:       600 * time.Millisecond,
	WriteTimeout:      2 * time.Second,
	IdleTimeout:       300 * time.Millisecond,
	MaxConns:          1500,
	MaxBody:           1 << 10,
}

func serve(t *testing.T, l httpguard.Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		w.Write([]byte("ok " + string(b)))
	})
	srv := httpguard.Serve(ln, h, l, func(err error) { t.Error(err) })
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// honest makes one request on a fresh connection and returns how long it took.
func honest(t *testing.T, addr string) time.Duration {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	start := time.Now()
	resp, err := c.Post("http://"+addr+"/", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatalf("honest request: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok hi" {
		t.Fatalf("honest request answered %q", b)
	}
	return time.Since(start)
}

// TestAttackersClosedHonestServed is the defect of a server with only a
// header timeout: 1,000 slow-body and idle connections stayed open forever.
// Under the limits the server closes every one, and an honest request made
// while all of them are open completes within a second.
func TestAttackersClosedHonestServed(t *testing.T) {
	addr := serve(t, testLimits)
	done := make(chan struct{})
	var res httpguard.AttackResult
	var aerr error
	go func() {
		defer close(done)
		res, aerr = httpguard.Attack(addr, "/", 1000, 5*time.Second)
	}()
	time.Sleep(200 * time.Millisecond) // let the attack open its connections
	if d := honest(t, addr); d > time.Second {
		t.Errorf("honest request took %v under attack", d)
	}
	<-done
	if aerr != nil {
		t.Fatal(aerr)
	}
	t.Logf("attack: %d opened, %d closed by the server, the slowest after %v", res.Opened, res.Closed, res.Slowest)
	if res.Closed != res.Opened {
		t.Fatalf("%d of %d attacking connections still open after 5s", res.Opened-res.Closed, res.Opened)
	}
	if d := honest(t, addr); d > time.Second {
		t.Errorf("honest request took %v after the attack", d)
	}
}

// A server with the old settings (header timeout only) keeps the attackers:
// the check above can fail.
func TestAttackDetectsUnlimitedServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	res, err := httpguard.Attack(ln.Addr().String(), "/", 20, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Closed != 0 {
		t.Fatalf("unlimited server closed %d connections", res.Closed)
	}
}

func TestBodyCapAndConnLimit(t *testing.T) {
	addr := serve(t, httpguard.Limits{ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, IdleTimeout: time.Second, MaxConns: 2, MaxBody: 8})
	resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader("0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("over-cap body: status %d", resp.StatusCode)
	}
	// Two idle connections fill the limit: a third is not served until
	// the server's idle timeout frees a slot.
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	honest(t, addr)
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("third connection served after %v with the limit full", d)
	}
}
