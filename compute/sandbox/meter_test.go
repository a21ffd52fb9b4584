package sandbox

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

// A module with nothing but an empty _start: type, function, export, code.
var emptyCommand = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
	0x03, 0x02, 0x01, 0x00, // function 0 of type 0
	0x07, 0x0a, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00, // export _start
	0x0a, 0x07, 0x01, 0x05, 0x00, 0x03, 0x40, 0x0b, 0x0b, // code: loop end end
}

func TestMeterAddsGlobalExportAndMemory(t *testing.T) {
	metered, err := meter(emptyCommand)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.CompileModule(ctx, metered)
	if err != nil {
		t.Fatalf("metered module does not validate: %v", err)
	}
	if _, ok := mod.ExportedFunctions()["_start"]; !ok {
		t.Error("_start export lost")
	}
	inst, err := rt.InstantiateModule(ctx, mod, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	g := inst.ExportedGlobal(fuelExport)
	if g == nil || int64(g.Get()) != startFuel {
		t.Fatalf("fuel global = %v, want %d", g, startFuel)
	}
	if _, err := inst.ExportedFunction("_start").Call(ctx); err != nil {
		t.Fatal(err)
	}
	if used := startFuel - int64(g.Get()); used != 1 {
		t.Errorf("one loop entry used %d fuel, want 1", used)
	}
	if memoryMinBytes(emptyCommand) != 0 {
		t.Error("memoryMinBytes of a module without memory should be 0")
	}
}

func TestMeterRefusesTakenExportName(t *testing.T) {
	m := append([]byte(nil), emptyCommand[:18]...)
	name := fuelExport
	body := append([]byte{0x01, byte(len(name))}, name...)
	body = append(body, 0x00, 0x00)
	m = append(m, 0x07, byte(len(body)))
	m = append(m, body...)
	m = append(m, emptyCommand[30:]...)
	if _, err := meter(m); err == nil {
		t.Fatal("meter accepted a module that already exports the fuel global")
	}
}

func TestAppendS64(t *testing.T) {
	for v, want := range map[int64][]byte{
		0: {0x00}, 1: {0x01}, -1: {0x7f}, 63: {0x3f}, 64: {0xc0, 0x00}, -64: {0x40}, -65: {0xbf, 0x7f},
		fuelCheckInterval - 1: {0xff, 0xff, 0x03},
	} {
		if got := appendS64(nil, v); string(got) != string(want) {
			t.Errorf("appendS64(%d) = %x, want %x", v, got, want)
		}
	}
}
