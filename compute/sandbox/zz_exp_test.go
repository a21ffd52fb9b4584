package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestExpPlainWazero(t *testing.T) {
	data := digits(t)
	_, trainer, native := programs(t)
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(dir+"/digits.csv.gz", data, 0o644)
	os.Mkdir(dir+"/out", 0o755)
	for _, ep := range []string{"0", "10"} {
		for i := 0; i < 3; i++ {
			cmd := exec.Command(native, "-epochs", ep, "-data", dir+"/digits.csv.gz", "-out", dir+"/out")
			start := time.Now()
			cmd.Run()
			t.Logf("native epochs %s: wall %v cpu %v", ep, time.Since(start), cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, cfgName := range []string{"plain", "closeOnDone", "interp"} {
		rc := wazero.NewRuntimeConfigCompiler()
		if cfgName == "closeOnDone" {
			rc = rc.WithCloseOnContextDone(true)
		}
		if cfgName == "interp" {
			continue
		}
		rt := wazero.NewRuntimeWithConfig(ctx, rc)
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
		start := time.Now()
		cm, err := rt.CompileModule(ctx, trainer)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("compile %v", time.Since(start))
		for _, ep := range []string{"0", "0", "0", "10", "10", "10"} {
			var out bytes.Buffer
			start := time.Now()
			c0 := threadCPU()
			_, err = rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithArgs("job", "-epochs", ep, "-data", "/d/digits.csv.gz", "-out", "/d/out").WithStdout(&out).WithStderr(&out).
				WithFSConfig(wazero.NewFSConfig().WithDirMount(dir, "/d")))
			t.Logf("%s epochs %s: wall %v cpu %v err=%v", cfgName, ep, time.Since(start), threadCPU()-c0, err)
		}
		rt.Close(ctx)
	}
}
