// Package progress shows how far a long operation got, on stderr: on a
// terminal an animated bar with the rate and the time left
// (github.com/schollz/progressbar), elsewhere a plain line every few
// seconds, so logs and CI output stay readable. It never writes to stdout,
// which -o json keeps for the result.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Interval is how often the plain (non-terminal) mode prints a line.
var Interval = 2 * time.Second

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Bar is the progress of one operation: a count towards a total (total
// <= 0: unknown), or named phases (Phase).
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	desc     string
	unit     string
	total    int64
	done     int64
	start    time.Time
	phase    string
	finished bool

	bar  *progressbar.ProgressBar // terminal mode
	stop chan struct{}            // plain mode's ticker
	wg   sync.WaitGroup
}

// New starts a bar for total units (e.g. "records") on w.
func New(w io.Writer, total int64, desc, unit string) *Bar {
	return start(w, total, desc, unit, true)
}

// Phases starts a bar over n named steps of unknown length each (compile,
// setup, write keys): call Phase at the start of each. On a terminal it
// spins and shows the time spent while a step runs.
func Phases(w io.Writer, desc string, n int) *Bar {
	b := start(w, -1, desc, "", false)
	b.total = int64(n)
	return b
}

func start(w io.Writer, total int64, desc, unit string, counts bool) *Bar {
	b := &Bar{w: w, desc: desc, unit: unit, total: total, start: time.Now()}
	if IsTerminal(w) {
		max := total
		if max <= 0 {
			max = -1
		}
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100 * time.Millisecond),
			progressbar.OptionSetSpinnerChangeInterval(200 * time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		}
		if counts {
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
		}
		b.bar = progressbar.NewOptions64(max, opts...)
		return b
	}
	b.stop = make(chan struct{})
	b.wg.Add(1)
	go b.tick()
	return b
}

// Phase names the step that starts now.
func (b *Bar) Phase(name string) {
	b.mu.Lock()
	b.done++
	b.phase = fmt.Sprintf("[%d/%d] %s", b.done, b.total, name)
	line := b.desc + " " + b.phase
	bar := b.bar
	b.mu.Unlock()
	if bar != nil {
		bar.Describe(line)
		bar.Add(1)
		return
	}
	b.printLine()
}

func (b *Bar) tick() {
	defer b.wg.Done()
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.printLine()
		}
	}
}

// line is the plain mode's status: "contribute: 500/1000 records (50%),
// 250 records/s, 2s left" or "zk setup: [2/3] setup, 4s".
func (b *Bar) line() string {
	el := time.Since(b.start)
	if b.phase != "" {
		return fmt.Sprintf("%s: %s, %s elapsed", b.desc, b.phase, el.Round(100*time.Millisecond))
	}
	rate := float64(b.done) / el.Seconds()
	s := fmt.Sprintf("%s: %d", b.desc, b.done)
	if b.total > 0 {
		s += fmt.Sprintf("/%d %s (%d%%)", b.total, b.unit, b.done*100/b.total)
	} else {
		s += " " + b.unit
	}
	s += fmt.Sprintf(", %.0f %s/s", rate, b.unit)
	if b.total > 0 && b.done > 0 && b.done < b.total {
		left := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
		s += fmt.Sprintf(", %s left", left.Round(time.Second))
	}
	return s + fmt.Sprintf(", %s elapsed", el.Round(100*time.Millisecond))
}

func (b *Bar) printLine() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.finished {
		fmt.Fprintln(b.w, b.line())
	}
}

// Add counts n more units done.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	b.done += int64(n)
	bar := b.bar
	b.mu.Unlock()
	if bar != nil {
		bar.Add(n)
	}
}

// Finish ends the bar: a full bar on a terminal, a last line otherwise.
func (b *Bar) Finish() {
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return
	}
	bar := b.bar
	b.mu.Unlock()
	if bar != nil {
		if b.phase != "" {
			bar.Describe(b.desc + " done")
		}
		bar.Finish()
		b.mu.Lock()
		b.finished = true
		b.mu.Unlock()
		return
	}
	close(b.stop)
	b.wg.Wait()
	b.mu.Lock()
	if b.phase != "" {
		b.phase = fmt.Sprintf("done in %d steps", b.total)
	}
	fmt.Fprintln(b.w, b.line())
	b.finished = true
	b.mu.Unlock()
}
