package httpguard

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// ProgressBytes is the progress that earns a long transfer another idle
// period: a client trickling slower than this per period is cut off.
const ProgressBytes = 64 << 10

// ReadWhileMoving returns r (a request body) with the connection's read
// deadline pushed idle into the future at the start and after every
// ProgressBytes, so an upload that keeps moving may outlast the server's
// ReadTimeout while a stalled one is still cut off.
func ReadWhileMoving(w http.ResponseWriter, r io.Reader, idle time.Duration) io.Reader {
	return &deadlineReader{r: r, rc: http.NewResponseController(w), idle: idle}
}

// WriteWhileMoving does the same for a response's writes (a download).
func WriteWhileMoving(w http.ResponseWriter, idle time.Duration) http.ResponseWriter {
	return &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: idle}
}

type deadlineReader struct {
	r       io.Reader
	rc      *http.ResponseController
	idle    time.Duration
	started bool
	since   int64 // bytes since the deadline last moved
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if !d.started || d.since >= ProgressBytes {
		d.rc.SetReadDeadline(time.Now().Add(d.idle))
		d.started, d.since = true, 0
	}
	n, err := d.r.Read(p)
	d.since += int64(n)
	return n, err
}

type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	idle    time.Duration
	started bool
	since   int64
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if !d.started || d.since >= ProgressBytes {
		d.rc.SetWriteDeadline(time.Now().Add(d.idle))
		d.started, d.since = true, 0
	}
	n, err := d.ResponseWriter.Write(p)
	d.since += int64(n)
	return n, err
}

// AbortOnReadError wraps content for http.ServeContent so that a read
// error after the headers are sent (a chunk that fails its check) cuts the
// connection: ServeContent would otherwise end the body short under a 200.
func AbortOnReadError(content io.ReadSeeker) io.ReadSeeker { return abortOnError{content} }

type abortOnError struct{ io.ReadSeeker }

func (a abortOnError) Read(p []byte) (int, error) {
	n, err := a.ReadSeeker.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		panic(http.ErrAbortHandler)
	}
	return n, err
}
