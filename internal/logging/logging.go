// Package logging builds the structured loggers of the node and the
// agents from config.toml's log_level and log_format: log/slog with a text
// or JSON handler, and the same logger behind CometBFT's log interface, so
// CometBFT's lines and Tenun's own come out in one format, filtered by the
// same module levels ("info", or "consensus:debug,*:error").
package logging

import (
	"fmt"
	"io"
	"log/slog"

	cmtflags "github.com/cometbft/cometbft/libs/cli/flags"
	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// Formats of log_format.
const (
	FormatPlain = "plain"
	FormatJSON  = "json"
)

// NewSlog is a slog logger writing format to w at every level (filtering is
// Comet's, by module; see New).
func NewSlog(w io.Writer, format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	switch format {
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case FormatPlain, "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log_format %q: want %q or %q", format, FormatPlain, FormatJSON)
}

// New returns a CometBFT logger that writes through slog in format and
// keeps the lines level allows ("info", "debug", "error", "none", or
// per module as "consensus:debug,*:info"). Tenun's own lines use
// logger.With("module", "tenun"), so "tenun:debug" applies to them.
func New(w io.Writer, level, format string) (cmtlog.Logger, error) {
	l, err := NewSlog(w, format)
	if err != nil {
		return nil, err
	}
	if level == "" {
		level = "info"
	}
	filtered, err := cmtflags.ParseLogLevel(level, Comet(l), "info")
	if err != nil {
		return nil, fmt.Errorf("log_level %q: %w", level, err)
	}
	return filtered, nil
}

// Comet adapts a slog logger to CometBFT's log interface.
func Comet(l *slog.Logger) cmtlog.Logger { return cometLogger{l} }

type cometLogger struct{ l *slog.Logger }

func (c cometLogger) Debug(msg string, kv ...any) { c.l.Debug(msg, kv...) }
func (c cometLogger) Info(msg string, kv ...any)  { c.l.Info(msg, kv...) }
func (c cometLogger) Error(msg string, kv ...any) { c.l.Error(msg, kv...) }
func (c cometLogger) With(kv ...any) cmtlog.Logger {
	return cometLogger{c.l.With(kv...)}
}
