package circompeer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenun-chain/tenun/internal/cputime"
)

// Packages are the pinned npm packages of the peer.
var Packages = []string{"circom2@0.2.23", "snarkjs@0.7.6", "circomlib-ml@1.4.4"}

// Runner drives circom2 and snarkjs (under node) in a cache directory.
type Runner struct {
	Dir     string        // cache directory, e.g. .cache/zkpeer
	Timeout time.Duration // per external command
	Log     func(format string, a ...any)
	// PeakRSSMB is the largest resident set of any node process run so far.
	PeakRSSMB float64
}

func (r *Runner) logf(format string, a ...any) {
	if r.Log != nil {
		r.Log(format, a...)
	}
}

// run executes a command in dir and returns its stdout.
func (r *Runner) run(dir string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &progressTee{r: r, buf: &errb}
	err := cmd.Run()
	if cmd.ProcessState != nil {
		if rss, ok := cputime.ChildPeakRSS(cmd.ProcessState); ok {
			r.PeakRSSMB = max(r.PeakRSSMB, float64(rss)/(1<<20))
		}
	}
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if len(msg) > 600 {
			msg = "..." + msg[len(msg)-600:]
		}
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return out.Bytes(), nil
}

// progressTee keeps a command's stderr and forwards its "progress " lines
// (written by the runner script's snarkjs logger) to the log, at most one
// every two seconds: a powers-of-tau run takes minutes.
type progressTee struct {
	r    *Runner
	buf  *bytes.Buffer
	line []byte
	last time.Time
}

func (p *progressTee) Write(b []byte) (int, error) {
	p.buf.Write(b)
	for _, c := range b {
		if c != '\n' {
			p.line = append(p.line, c)
			continue
		}
		if msg, ok := strings.CutPrefix(string(p.line), "progress "); ok && time.Since(p.last) >= 2*time.Second {
			p.last = time.Now()
			p.r.logf("  %s", msg)
		}
		p.line = p.line[:0]
	}
	return len(b), nil
}

// Ensure checks node and installs the npm packages into Dir when missing.
// The directory gets a .gitignore so it never shows up in git status.
func (r *Runner) Ensure() error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("node is not installed")
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return fmt.Errorf("peer cache: %w", err)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, ".gitignore"), []byte("*\n"), 0o644); err != nil {
		return fmt.Errorf("peer cache: %w", err)
	}
	missing := false
	for _, p := range []string{"circom2/cli.js", "snarkjs/build/main.cjs", "circomlib-ml/circuits/Dense.circom"} {
		if _, err := os.Stat(filepath.Join(r.Dir, "node_modules", p)); err != nil {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return errors.New("npm is not installed")
	}
	r.logf("installing %s into %s (one time)", strings.Join(Packages, " "), r.Dir)
	args := append([]string{"install", "--no-audit", "--no-fund", "--prefix", "."}, Packages...)
	if _, err := r.run(r.Dir, "npm", args...); err != nil {
		return fmt.Errorf("npm install: %w", err)
	}
	return nil
}

// Compiled is a circom circuit compiled to R1CS and a witness generator.
type Compiled struct {
	Dir, R1CS, Wasm string
	Constraints     int
	CompileSeconds  float64
	Cached          bool
}

// Compile compiles source (cached by its hash) and counts its constraints.
func (r *Runner) Compile(source string) (*Compiled, error) {
	sum := sha256.Sum256([]byte(source))
	dir, err := filepath.Abs(filepath.Join(r.Dir, "work", hex.EncodeToString(sum[:8])))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("peer work dir: %w", err)
	}
	c := &Compiled{Dir: dir, R1CS: filepath.Join(dir, "inference.r1cs"), Wasm: filepath.Join(dir, "inference_js", "inference.wasm")}
	_, e1 := os.Stat(c.R1CS)
	_, e2 := os.Stat(c.Wasm)
	if e1 == nil && e2 == nil {
		c.Cached = true
	} else {
		if err := os.WriteFile(filepath.Join(dir, "inference.circom"), []byte(source), 0o644); err != nil {
			return nil, err
		}
		// circom2 runs under WASI and resolves includes only below its working
		// directory, so the library is copied next to the circuit.
		if err := os.CopyFS(filepath.Join(dir, "lib"), os.DirFS(filepath.Join(r.Dir, "node_modules", "circomlib-ml", "circuits"))); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("copy circomlib-ml: %w", err)
		}
		cli, _ := filepath.Abs(filepath.Join(r.Dir, "node_modules", "circom2", "cli.js"))
		r.logf("compiling the circom circuit")
		start := time.Now()
		if _, err := r.run(dir, "node", cli, "inference.circom", "--r1cs", "--wasm", "-l", "lib", "-o", "."); err != nil {
			return nil, fmt.Errorf("circom: %w", err)
		}
		c.CompileSeconds = time.Since(start).Seconds()
	}
	var info struct{ Constraints int }
	if err := r.js(&info, "info", c.R1CS); err != nil {
		return nil, err
	}
	c.Constraints = info.Constraints
	return c, nil
}

// PowersOfTau returns a prepared phase-2 ptau file for the circuit's
// constraints (the smallest power of two that holds them with the public
// signals: 2^16 for the 62,892-constraint peer digits circuit, whose MiMC7
// commitment is what makes it large; gnark's digits circuit is 7,109),
// generating it (new accumulator, one contribution, phase-2 preparation;
// minutes, with progress in the log) on first use and caching it.
func (r *Runner) PowersOfTau(constraints int) (path string, seconds float64, cached bool, err error) {
	// snarkjs's domain also holds the public inputs and outputs; leave room.
	power := max(bits.Len(uint(constraints+256)), 8)
	dir, err := filepath.Abs(filepath.Join(r.Dir, "ptau"))
	if err != nil {
		return "", 0, false, err
	}
	path = filepath.Join(dir, fmt.Sprintf("pot%d_final.ptau", power))
	if _, err := os.Stat(path); err == nil {
		return path, 0, true, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, false, err
	}
	r.logf("preparing powers of tau 2^%d (one time)", power)
	var res struct{ Seconds float64 }
	if err := r.js(&res, "ptau", fmt.Sprint(power), dir, path); err != nil {
		return "", 0, false, err
	}
	return path, res.Seconds, false, nil
}

// Keys are the peer's Groth16 keys for a compiled circuit.
type Keys struct {
	ZKey, VK     string
	SetupSeconds float64
}

// Setup runs snarkjs's Groth16 setup (phase 2 with no contribution).
func (r *Runner) Setup(c *Compiled, ptau string) (*Keys, error) {
	k := &Keys{ZKey: filepath.Join(c.Dir, "inference.zkey"), VK: filepath.Join(c.Dir, "vk.json")}
	var res struct{ Seconds float64 }
	if err := r.js(&res, "setup", c.R1CS, ptau, k.ZKey, k.VK); err != nil {
		return nil, err
	}
	k.SetupSeconds = res.Seconds
	return k, nil
}

// ProveResult is one proving run of the peer.
type ProveResult struct {
	ProveSeconds float64  `json:"prove_seconds"` // best of the repeats, witness generation included
	VerifyMillis float64  `json:"verify_ms"`
	OK           bool     `json:"ok"`
	Public       []string `json:"public"` // commitment, class, then x
	ProofBytes   int      `json:"proof_bytes"`
}

// Prove runs snarkjs groth16 fullProve (witness + proof) repeat times in one
// node process, keeping the fastest, then verifies.
func (r *Runner) Prove(c *Compiled, k *Keys, input map[string]any, repeat int) (*ProveResult, error) {
	b, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	in := filepath.Join(c.Dir, "input.json")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		return nil, err
	}
	var res ProveResult
	if err := r.js(&res, "prove", in, c.Wasm, k.ZKey, k.VK, fmt.Sprint(repeat)); err != nil {
		return nil, err
	}
	if !res.OK {
		return &res, errors.New("snarkjs rejected its own proof")
	}
	return &res, nil
}

// js runs the runner script with node and decodes its JSON output.
func (r *Runner) js(out any, args ...string) error {
	script, err := filepath.Abs(filepath.Join(r.Dir, "tenun-peer.cjs"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(script, []byte(runnerJS), 0o644); err != nil {
		return err
	}
	b, err := r.run(r.Dir, "node", append([]string{script}, args...)...)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), out); err != nil {
		return fmt.Errorf("peer output %q: %w", lines[len(lines)-1], err)
	}
	return nil
}

// runnerJS times snarkjs in-process, so node start-up and module loading are
// not charged to the peer.
const runnerJS = `"use strict";
const snarkjs = require("snarkjs");
const fs = require("fs");
const { performance } = require("perf_hooks");
async function main() {
  const [cmd, ...a] = process.argv.slice(2);
  const out = {};
  if (cmd === "info") {
    const r = await snarkjs.r1cs.info(a[0]);
    out.Constraints = r.nConstraints;
  } else if (cmd === "ptau") {
    const [power, dir, final] = a;
    const t0 = performance.now();
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    const say = (step) => (m) => process.stderr.write("progress ptau 2^" + power + " " + step + ": " + m + "\n");
    // snarkjs calls log, debug, info, warn and error on its logger.
    const logger = (step) => ({ log: say(step), debug: say(step), info: say(step), warn: say(step), error: say(step) });
    await snarkjs.powersOfTau.newAccumulator(curve, +power, dir + "/pot_0.ptau", logger("1/3 new accumulator"));
    await snarkjs.powersOfTau.contribute(dir + "/pot_0.ptau", dir + "/pot_1.ptau", "tenun bench", "tenun-" + Date.now() + "-" + Math.random(), logger("2/3 contribution"));
    await snarkjs.powersOfTau.preparePhase2(dir + "/pot_1.ptau", final + ".tmp", logger("3/3 phase-2 preparation"));
    fs.renameSync(final + ".tmp", final);
    fs.unlinkSync(dir + "/pot_0.ptau");
    fs.unlinkSync(dir + "/pot_1.ptau");
    out.Seconds = (performance.now() - t0) / 1000;
  } else if (cmd === "setup") {
    const [r1cs, ptau, zkey, vkf] = a;
    const t0 = performance.now();
    await snarkjs.zKey.newZKey(r1cs, ptau, zkey);
    const vk = await snarkjs.zKey.exportVerificationKey(zkey);
    out.Seconds = (performance.now() - t0) / 1000;
    fs.writeFileSync(vkf, JSON.stringify(vk));
  } else if (cmd === "prove") {
    const [input, wasm, zkey, vkf, repeat] = a;
    const inp = JSON.parse(fs.readFileSync(input));
    let best = Infinity, res;
    for (let i = 0; i < +repeat; i++) {
      const t0 = performance.now();
      res = await snarkjs.groth16.fullProve(inp, wasm, zkey);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    const vk = JSON.parse(fs.readFileSync(vkf));
    let vbest = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      out.ok = await snarkjs.groth16.verify(vk, res.publicSignals, res.proof);
      vbest = Math.min(vbest, performance.now() - t0);
    }
    out.prove_seconds = best;
    out.verify_ms = vbest;
    out.public = res.publicSignals;
    out.proof_bytes = JSON.stringify(res.proof).length;
  } else {
    throw new Error("unknown command " + cmd);
  }
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}
main().catch((e) => { console.error((e && e.stack) || e); process.exit(1); });
`
