package sandbox

import (
	"context"
	"errors"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Causes that tell our own time limits apart from the caller's cancellation.
var (
	errWallTime = errors.New("wall time")
	errCPUTime  = errors.New("CPU time")
)

// watch stops the guest when ctx ends (wall time, the caller) or, with a CPU
// limit, when the guest thread has used it: it overwrites the fuel counter
// with poisonFuel so the guest traps at its next loop header. The guest may
// race a single write (its own load, decrement, store), so the poison is
// rewritten until the run ends. watch sends the reason (nil if it did not
// stop the guest) on stopped once it no longer touches the counter.
func watch(ctx context.Context, done <-chan struct{}, stopped chan<- error, cancel context.CancelCauseFunc,
	fuel api.MutableGlobal, readCPU func() (time.Duration, bool), cpu0 time.Duration, cpuOK bool, cpuLimit time.Duration,
) {
	var tick <-chan time.Time
	if cpuOK && cpuLimit > 0 {
		t := time.NewTicker(min(max(cpuLimit/20, time.Millisecond), 50*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	var cause error
wait:
	for {
		select {
		case <-done:
			stopped <- nil
			return
		case <-ctx.Done():
			cause = context.Cause(ctx)
			break wait
		case <-tick:
			if used, ok := readCPU(); ok && used-cpu0 > cpuLimit {
				cause = errCPUTime
				cancel(cause)
				break wait
			}
		}
	}
	poison := time.NewTicker(time.Millisecond)
	defer poison.Stop()
	poisonValue := int64(poisonFuel)
	for {
		fuel.Set(uint64(poisonValue))
		select {
		case <-done:
			stopped <- cause
			return
		case <-poison.C:
		}
	}
}
