//go:build linux

package e2e

import "syscall"

// sysProcAttr makes the kernel kill a node when the test binary dies (a
// test timeout's panic, say), so no node outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
