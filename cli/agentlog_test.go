package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Agents log as the node does: the home's log_format and log_level, or the
// flags, each line tagged with the agent's module.
func TestAgentsLogInTheNodesFormat(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "config", "config.toml"), []byte("log_level = \"info\"\nlog_format = \"json\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := homeDir
	t.Cleanup(func() { homeDir = saved })
	homeDir = home
	logLine := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		cmd := &cobra.Command{Use: "agent"}
		addLogFlags(cmd)
		cmd.SetErr(&out)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		logf, err := agentLogf(cmd, "provider")
		if err != nil {
			t.Fatal(err)
		}
		logf("job %d committed", 7)
		return out.String()
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(logLine()), &rec); err != nil || rec["msg"] != "job 7 committed" || rec["module"] != "provider" || rec["level"] != "INFO" {
		t.Fatalf("json line %v: %v", rec, err)
	}
	if got := logLine("--log-format", "plain"); !strings.Contains(got, `msg="job 7 committed"`) || !strings.Contains(got, "module=provider") {
		t.Fatalf("plain line %q", got)
	}
	if got := logLine("--log-level", "provider:error,*:info"); got != "" {
		t.Fatalf("an info line passed level provider:error: %q", got)
	}
	cmd := &cobra.Command{Use: "agent"}
	addLogFlags(cmd)
	if err := cmd.ParseFlags([]string{"--log-format", "xml"}); err != nil {
		t.Fatal(err)
	}
	if _, err := agentLogf(cmd, "provider"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Fatalf("log format xml: %v", err)
	}
}
