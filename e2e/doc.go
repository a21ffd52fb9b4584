// Package e2e holds Tenun's end-to-end tests: they build the tenun binary
// once and run real node processes on loopback ports (a four-validator
// testnet that loses and regains a validator; a devnet brought down under
// load, by SIGKILL and by CometBFT's crash injection at chosen steps of a
// commit, and restarted), talking to them only over the HTTP API and
// CometBFT's RPC, as users and operators do. Restarted nodes are checked
// against node.Replay of their own blocks.
//
// The package has no code of its own; everything is in its _test.go files.
//
//	go test ./e2e/                       # about a minute or two
//	go test -short ./e2e/                # skipped
//	TENUN_E2E_BIN=/path/to/tenun go test ./e2e/   # use a prebuilt binary
//	TENUN_E2E_KEEP=1 go test ./e2e/      # keep homes and logs (path printed)
package e2e
