package httpguard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// AttackResult says how long a server held the attacking connections.
type AttackResult struct {
	Opened  int           // attacking connections opened
	Closed  int           // closed by the server within the wait
	Slowest time.Duration // longest a connection stayed open before the server closed it
}

// Attack opens n connections to addr, half of them sending headers and then
// trickling a body one byte at a time, half sending one request and then
// idling on the kept-alive connection, and waits up to wait for the server
// to close them. It is the check that a server's limits work; tests of
// every server in the binary run it while an honest client is served.
func Attack(addr, path string, n int, wait time.Duration) (AttackResult, error) {
	var (
		mu  sync.Mutex
		res AttackResult
		wg  sync.WaitGroup
	)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return res, fmt.Errorf("attack connection %d: %w", i, err)
		}
		conns = append(conns, c)
		res.Opened++
		slowBody := i%2 == 0
		var req string
		if slowBody {
			req = "POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
		} else {
			req = "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
		}
		if _, err := io.WriteString(c, req); err != nil {
			return res, fmt.Errorf("attack connection %d: %w", i, err)
		}
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			if slowBody {
				// Trickle the body until the server gives up on it.
				go func() {
					for time.Since(start) < wait {
						if _, err := c.Write([]byte{'x'}); err != nil {
							return
						}
						time.Sleep(100 * time.Millisecond)
					}
				}()
			}
			// Read (and discard) any answer until the server closes.
			c.SetReadDeadline(start.Add(wait))
			_, err := io.Copy(io.Discard, bufio.NewReader(c))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return // still open when the wait ended
			}
			mu.Lock()
			res.Closed++
			if d := time.Since(start); d > res.Slowest {
				res.Slowest = d
			}
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	return res, nil
}
