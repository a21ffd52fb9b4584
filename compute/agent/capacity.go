package agent

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Capacity is what a provider offers the market.
type Capacity struct {
	CPUCores uint32 `json:"cpu_cores"`
	MemoryMB uint64 `json:"memory_mb"`
	GPUs     uint32 `json:"gpus"`
	GPUModel string `json:"gpu_model,omitempty"`
}

// DetectCapacity reads this machine's cores, memory (/proc/meminfo, 1 GiB
// where unknown) and NVIDIA GPUs (nvidia-smi, none when it is absent).
func DetectCapacity(ctx context.Context) Capacity {
	c := Capacity{CPUCores: uint32(runtime.NumCPU()), MemoryMB: 1024}
	if mb := memTotalMB(); mb > 0 {
		c.MemoryMB = mb
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader").Output()
	if err == nil {
		c.GPUs, c.GPUModel = parseNvidiaSMI(string(out))
	}
	return c
}

// parseNvidiaSMI reads `nvidia-smi --query-gpu=name,memory.total
// --format=csv,noheader` output, one "NAME, MEM MiB" line per GPU, and
// returns the count and the first GPU's name.
func parseNvidiaSMI(out string) (n uint32, model string) {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, _, _ := strings.Cut(line, ",")
		if n == 0 {
			model = strings.TrimSpace(name)
		}
		n++
	}
	if len(model) > 64 {
		model = model[:64] // the chain's limit on the model name
	}
	return n, model
}

func memTotalMB() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}
