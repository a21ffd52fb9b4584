package node

import (
	"fmt"
	"strings"

	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// StartOptions override a home's configuration for one run of the node
// (`tenun start --api-addr ... --rpc-laddr ... --log-level ...`); the
// files on disk stay as they are.
type StartOptions struct {
	APIAddr  string // host:port of the HTTP API
	RPCAddr  string // CometBFT RPC listen address, tcp://host:port
	P2PAddr  string // CometBFT P2P listen address, tcp://host:port
	LogLevel string // node.log level: debug, info, error or none (default info)
}

func (o StartOptions) apply(ac *AppConfig, c *cfg.Config) (cmtlog.Option, error) {
	if o.APIAddr != "" {
		ac.APIAddr = o.APIAddr
	}
	if o.RPCAddr != "" {
		c.RPC.ListenAddress = tcpAddr(o.RPCAddr)
	}
	if o.P2PAddr != "" {
		c.P2P.ListenAddress = tcpAddr(o.P2PAddr)
	}
	lvl := o.LogLevel
	if lvl == "" {
		lvl = "info"
	}
	opt, err := cmtlog.AllowLevel(lvl)
	if err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, error or none", o.LogLevel)
	}
	return opt, nil
}

// tcpAddr accepts host:port as well as tcp://host:port.
func tcpAddr(a string) string {
	if strings.Contains(a, "://") {
		return a
	}
	return "tcp://" + a
}
