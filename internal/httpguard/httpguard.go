// Package httpguard builds the HTTP servers the tenun binary runs (the node
// API with its gateway routes, the labeling page, the subnet miner) with
// limits an attacker on the network cannot hold open: read, write, header
// and idle timeouts, a cap on open connections, and a cap on request
// bodies. Without them one client can trickle 1,000 bodies or park 1,000
// idle keep-alive connections and exhaust the process's file descriptors.
package httpguard

import (
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound what one connection may hold.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included, so a
	// slow-body client is cut off.
	ReadTimeout time.Duration
	// WriteTimeout bounds handling and writing a response.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no new request.
	IdleTimeout time.Duration
	// MaxConns caps open connections; further ones wait in the listen
	// backlog until a slot frees.
	MaxConns int
	// MaxBody caps every request body (routes may cap lower).
	MaxBody int64
	// Unbounded approves requests that skip MaxBody: routes that bound
	// their bodies themselves (a blob upload reads exactly the size it
	// declared and signed).
	Unbounded func(*http.Request) bool
}

// Default suits the node API: the largest body is a blob upload (64 MiB
// by default), the longest handler a submit that waits for its block
// (up to 60 s).
var Default = Limits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       60 * time.Second,
	WriteTimeout:      90 * time.Second,
	IdleTimeout:       30 * time.Second,
	MaxConns:          2048,
	MaxBody:           65 << 20,
}

// Local suits a page or agent server with small requests and answers.
var Local = Limits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       15 * time.Second,
	WriteTimeout:      90 * time.Second,
	IdleTimeout:       30 * time.Second,
	MaxConns:          256,
	MaxBody:           1 << 20,
}

// Server returns an http.Server for h with l's timeouts and body cap.
func Server(h http.Handler, l Limits) *http.Server {
	if l.MaxBody > 0 {
		capped := http.MaxBytesHandler(h, l.MaxBody)
		if l.Unbounded == nil {
			h = capped
		} else {
			inner := h
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if l.Unbounded(r) {
					inner.ServeHTTP(w, r)
					return
				}
				capped.ServeHTTP(w, r)
			})
		}
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// Listener caps ln at l.MaxConns open connections.
func Listener(ln net.Listener, l Limits) net.Listener {
	if l.MaxConns <= 0 {
		return ln
	}
	return netutil.LimitListener(ln, l.MaxConns)
}

// Serve serves h on ln under l until the server is shut down; it returns
// the server so the caller can shut it down.
func Serve(ln net.Listener, h http.Handler, l Limits, onErr func(error)) *http.Server {
	srv := Server(h, l)
	go func() {
		if err := srv.Serve(Listener(ln, l)); err != nil && err != http.ErrServerClosed && onErr != nil {
			onErr(err)
		}
	}()
	return srv
}
