package node

import (
	"strings"
	"testing"

	cfg "github.com/cometbft/cometbft/config"
)

// The operator's overrides replace the home's addresses for one run, and a
// bad log level is refused with the accepted ones named.
func TestStartOptions(t *testing.T) {
	ac := AppConfig{APIAddr: "127.0.0.1:26658"}
	c := cfg.DefaultConfig()
	if _, err := (StartOptions{APIAddr: "0.0.0.0:9000", RPCAddr: "127.0.0.1:9001", P2PAddr: "tcp://0.0.0.0:9002", LogLevel: "debug"}).apply(&ac, c); err != nil {
		t.Fatal(err)
	}
	if ac.APIAddr != "0.0.0.0:9000" || c.RPC.ListenAddress != "tcp://127.0.0.1:9001" || c.P2P.ListenAddress != "tcp://0.0.0.0:9002" {
		t.Fatalf("overrides: %s %s %s", ac.APIAddr, c.RPC.ListenAddress, c.P2P.ListenAddress)
	}
	if _, err := (StartOptions{LogLevel: "loud"}).apply(&ac, c); err == nil || !strings.Contains(err.Error(), "debug, info, error or none") {
		t.Fatalf("bad level: %v", err)
	}
	if _, err := (StartOptions{}).apply(&ac, c); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
