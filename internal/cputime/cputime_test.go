package cputime

import (
	"os/exec"
	"runtime"
	"testing"
)

// spin burns CPU the readers must see.
func spin() (x uint64) {
	for i := uint64(0); i < 50_000_000; i++ {
		x = x*6364136223846793005 + i
	}
	return x
}

func TestProcessCPUGrowsWithWork(t *testing.T) {
	before, ok := Process()
	if !ok {
		t.Skipf("process CPU time is not read on %s", runtime.GOOS)
	}
	_ = spin()
	after, ok := Process()
	if !ok || after <= before {
		t.Fatalf("process CPU time did not grow: %v -> %v (ok %v)", before, after, ok)
	}
}

func TestThreadCPUGrowsWithWork(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	clock := ThreadClock()
	before, ok := Thread()
	if !ok {
		if ThreadSupported {
			t.Fatal("thread CPU time unreadable where ThreadSupported")
		}
		t.Skipf("thread CPU time is not read on %s", runtime.GOOS)
	}
	c0, ok := clock()
	if !ok {
		t.Fatal("ThreadClock unreadable where Thread works")
	}
	_ = spin()
	after, _ := Thread()
	c1, _ := clock()
	if after <= before || c1 <= c0 {
		t.Fatalf("thread CPU time did not grow: Thread %v -> %v, ThreadClock %v -> %v", before, after, c0, c1)
	}
}

func TestPeakRSSIsPlausible(t *testing.T) {
	peak, ok := PeakRSS()
	if !ok {
		t.Skipf("peak RSS is not read on %s", runtime.GOOS)
	}
	// A Go test binary has more than 1 MiB resident and less than 1 TiB.
	if peak < 1<<20 || peak > 1<<40 {
		t.Fatalf("PeakRSS = %d bytes, implausible", peak)
	}
}

func TestChildPeakRSS(t *testing.T) {
	if _, ok := ChildPeakRSS(nil); ok {
		t.Fatal("ChildPeakRSS(nil) reported a figure")
	}
	if _, ok := PeakRSS(); !ok {
		t.Skipf("peak RSS is not read on %s", runtime.GOOS)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("no `true` command: %v", err)
	}
	rss, ok := ChildPeakRSS(cmd.ProcessState)
	if !ok || rss <= 0 || rss > 1<<40 {
		t.Fatalf("ChildPeakRSS(true) = %d, %v", rss, ok)
	}
}
