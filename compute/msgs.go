package compute

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/tenun-chain/tenun/chain"
)

// Hash is chain.Hash: result digests, commitments and salts.
type Hash = chain.Hash

// CommitHash is what a provider commits before revealing its result:
// SHA-256 over a domain tag, the job, the provider's own address, the output
// digest, the output blob's CID and a secret salt. The address makes a
// copied commitment worthless to anyone else; the salt keeps the digest
// hidden until the reveal, so nobody can copy another provider's answer.
func CommitHash(job uint64, provider chain.Address, digest Hash, outputCID string, salt Hash) Hash {
	h := sha256.New()
	h.Write([]byte("tenun/compute/commit/v1\x00"))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], job)
	h.Write(n[:])
	h.Write(provider[:])
	h.Write(digest[:])
	binary.BigEndian.PutUint64(n[:], uint64(len(outputCID)))
	h.Write(n[:])
	h.Write([]byte(outputCID))
	h.Write(salt[:])
	var out Hash
	h.Sum(out[:0])
	return out
}

// DigestOfCID returns the SHA-256 a blob CID names. An output blob is the
// sandbox's output archive, whose digest is that same SHA-256, so a reveal's
// digest and CID must agree.
func DigestOfCID(cid string) (Hash, error) {
	c, err := chain.ParseRawBlobCID(cid) // a dag-pb root's hash is not the content's
	if err != nil {
		return Hash{}, err
	}
	mh := c.Hash() // sha2-256 multihash: 0x12, 0x20, 32 bytes (ParseRawBlobCID checked the code)
	var h Hash
	if len(mh) != 2+len(h) {
		return h, chain.Wrap(chain.ErrInvalidRequest, "CID %s: unexpected multihash length %d", cid, len(mh))
	}
	copy(h[:], mh[2:])
	return h, nil
}

// checkOutput validates a claimed (digest, output CID) pair without state.
func checkOutput(digest Hash, output string) error {
	if digest.IsZero() {
		return chain.Wrap(chain.ErrInvalidRequest, "output digest is missing")
	}
	d, err := DigestOfCID(output)
	if err != nil {
		return err
	}
	if d != digest {
		return chain.Wrap(chain.ErrInvalidRequest, "output CID %s names digest %s, not %s", output, d, digest)
	}
	return nil
}

// MsgRegister registers the sender as a compute provider (or updates its
// offer), bonding Stake more into the compute pool. Registration also counts
// as a heartbeat.
type MsgRegister struct {
	CPUCores uint32 `json:"cpu_cores" cbor:"1,keyasint"`
	MemoryMB uint64 `json:"memory_mb" cbor:"2,keyasint"`
	GPUs     uint32 `json:"gpus" cbor:"3,keyasint"`
	GPUModel string `json:"gpu_model,omitempty" cbor:"4,keyasint,omitempty"`
	Price    uint64 `json:"price" cbor:"5,keyasint"` // utnn per unit of work (FuelPerUnit loop iterations)
	Stake    uint64 `json:"stake" cbor:"6,keyasint"` // utnn to add to the provider's bond (0: none)
}

func (*MsgRegister) Type() string { return "compute/register" }
func (m *MsgRegister) ValidateBasic() error {
	switch {
	case m.CPUCores == 0 || m.CPUCores > 4096:
		return chain.Wrap(chain.ErrInvalidRequest, "cpu_cores must be 1 to 4096")
	case m.MemoryMB == 0 || m.MemoryMB > 1<<30:
		return chain.Wrap(chain.ErrInvalidRequest, "memory_mb must be 1 to %d", 1<<30)
	case m.GPUs > 1024:
		return chain.Wrap(chain.ErrInvalidRequest, "gpus must be at most 1024")
	case len(m.GPUModel) > MaxGPUModelLen:
		return chain.Wrap(chain.ErrInvalidRequest, "gpu_model is over %d characters", MaxGPUModelLen)
	case m.Price == 0:
		return chain.Wrap(chain.ErrInvalidRequest, "price must be positive")
	}
	return nil
}

// MsgHeartbeat keeps a registered provider live (matchable).
type MsgHeartbeat struct{}

func (*MsgHeartbeat) Type() string         { return "compute/heartbeat" }
func (*MsgHeartbeat) ValidateBasic() error { return nil }

// Input is one file mounted read-only in the job's input directory.
type Input struct {
	Name string `json:"name" cbor:"1,keyasint"` // relative slash path, e.g. "digits.csv.gz"
	CID  string `json:"cid" cbor:"2,keyasint"`
}

// Spec is what a job runs: everything a provider needs to reproduce it
// bit for bit.
type Spec struct {
	Module         string   `json:"module" cbor:"1,keyasint"` // CID of a WASI command module
	Inputs         []Input  `json:"inputs,omitempty" cbor:"2,keyasint,omitempty"`
	Args           []string `json:"args,omitempty" cbor:"3,keyasint,omitempty"`
	Seed           uint64   `json:"seed,omitempty" cbor:"4,keyasint,omitempty"` // the guest's deterministic random stream
	MemoryBytes    uint64   `json:"memory_bytes" cbor:"5,keyasint"`
	Fuel           uint64   `json:"fuel" cbor:"6,keyasint"`                          // loop iterations: the deterministic budget and the unit of price
	WallSeconds    uint32   `json:"wall_seconds" cbor:"7,keyasint"`                  // provider-side time cap; not reproducible
	MaxOutputBytes uint64   `json:"max_output_bytes" cbor:"8,keyasint"`              // total size of the files in /out
	CPUCores       uint32   `json:"cpu_cores,omitempty" cbor:"9,keyasint,omitempty"` // 0 means 1
	GPUs           uint32   `json:"gpus,omitempty" cbor:"10,keyasint,omitempty"`
}

// Cores is the cores the job occupies on a provider (at least 1).
func (s Spec) Cores() uint64 { return uint64(max(s.CPUCores, 1)) }

// Units is the job's size in units of work, ceil(Fuel / FuelPerUnit).
func (s Spec) Units() uint64 {
	u := s.Fuel / FuelPerUnit
	if s.Fuel%FuelPerUnit != 0 {
		u++
	}
	return u
}

func (s *Spec) validate() error {
	if _, err := chain.ParseBlobCID(s.Module); err != nil {
		return fmt.Errorf("module: %w", err)
	}
	if len(s.Inputs) > MaxInputs {
		return chain.Wrap(chain.ErrInvalidRequest, "%d inputs, limit %d", len(s.Inputs), MaxInputs)
	}
	for i, in := range s.Inputs {
		if err := validInputName(in.Name); err != nil {
			return err
		}
		if _, err := chain.ParseBlobCID(in.CID); err != nil {
			return fmt.Errorf("input %q: %w", in.Name, err)
		}
		// Sorted, unique names: one encoding per job, and no name that is
		// also another's directory ("a" and "a/b") since the sandbox cannot
		// mount both.
		if i > 0 {
			prev := s.Inputs[i-1].Name
			if in.Name <= prev {
				return chain.Wrap(chain.ErrInvalidRequest, "inputs must be sorted by name with no duplicates (%q after %q)", in.Name, prev)
			}
			if strings.HasPrefix(in.Name, prev+"/") {
				return chain.Wrap(chain.ErrInvalidRequest, "input %q is also the directory of %q", prev, in.Name)
			}
		}
	}
	if len(s.Args) > MaxArgs {
		return chain.Wrap(chain.ErrInvalidRequest, "%d arguments, limit %d", len(s.Args), MaxArgs)
	}
	for _, a := range s.Args {
		if len(a) > MaxArgLen || strings.IndexByte(a, 0) >= 0 {
			return chain.Wrap(chain.ErrInvalidRequest, "an argument is over %d bytes or contains NUL", MaxArgLen)
		}
	}
	switch {
	case s.MemoryBytes == 0 || s.MemoryBytes > MaxJobMemory:
		return chain.Wrap(chain.ErrInvalidRequest, "memory_bytes must be 1 to %d", uint64(MaxJobMemory))
	case s.Fuel == 0 || s.Fuel > MaxJobFuel:
		return chain.Wrap(chain.ErrInvalidRequest, "fuel must be 1 to %d", uint64(MaxJobFuel))
	case s.WallSeconds == 0 || s.WallSeconds > MaxWallSeconds:
		return chain.Wrap(chain.ErrInvalidRequest, "wall_seconds must be 1 to %d", MaxWallSeconds)
	case s.MaxOutputBytes == 0 || s.MaxOutputBytes > MaxOutputBytes:
		return chain.Wrap(chain.ErrInvalidRequest, "max_output_bytes must be 1 to %d", MaxOutputBytes)
	case s.CPUCores > 4096 || s.GPUs > 1024:
		return chain.Wrap(chain.ErrInvalidRequest, "cpu_cores or gpus out of range")
	}
	return nil
}

// validInputName accepts clean relative slash paths ("a", "dir/b.csv").
func validInputName(name string) error {
	if name == "" || len(name) > MaxInputName {
		return chain.Wrap(chain.ErrInvalidRequest, "input name must be 1 to %d characters", MaxInputName)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return chain.Wrap(chain.ErrInvalidRequest, "input name %q is not a clean relative path", name)
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return chain.Wrap(chain.ErrInvalidRequest, "input name %q has a control character or backslash", name)
		}
	}
	return nil
}

// MsgPostJob posts a job. Its budget, (Redundancy + reserve) x MaxPrice x
// units, is escrowed; what is not paid out is refunded when the job ends.
type MsgPostJob struct {
	Spec       Spec   `json:"spec" cbor:"1,keyasint"`
	MaxPrice   uint64 `json:"max_price" cbor:"2,keyasint"`  // utnn per unit of work a provider may charge
	Redundancy uint32 `json:"redundancy" cbor:"3,keyasint"` // providers that run it: 1 (optimistic) to 5
	// Timeout is the blocks an assignee has to commit after being assigned,
	// and to reveal once reveals open; a provider that misses it is
	// replaced and loses part of its stake.
	Timeout int64 `json:"timeout" cbor:"4,keyasint"`
	// DeadlineBlocks: the job must have its result within this many blocks
	// of posting, or it is refunded.
	DeadlineBlocks int64 `json:"deadline_blocks" cbor:"5,keyasint"`
	// ChallengeBlocks is the challenge window of an optimistic (r = 1) result.
	ChallengeBlocks int64 `json:"challenge_blocks,omitempty" cbor:"6,keyasint,omitempty"`
	// Data are dataset versions the job reads (compute-to-data); the
	// tenant must curate each dataset or hold a grant to it.
	Data []DataInput `json:"data,omitempty" cbor:"7,keyasint,omitempty"`
}

func (*MsgPostJob) Type() string { return "compute/post_job" }

// PostJobFee is the extra fee of posting a job, on top of the chain's
// minimum: matching reads every provider, and an open job costs the
// end-block step until it is matched, so jobs are not free to spam.
const PostJobFee = 90

// ExtraFee makes MsgPostJob a chain.Coster.
func (*MsgPostJob) ExtraFee() uint64 { return PostJobFee }
func (m *MsgPostJob) ValidateBasic() error {
	if err := m.Spec.validate(); err != nil {
		return err
	}
	if err := validateDataInputs(m.Data, m.Spec.Inputs); err != nil {
		return err
	}
	switch {
	case m.MaxPrice == 0:
		return chain.Wrap(chain.ErrInvalidRequest, "max_price must be positive")
	case m.Redundancy == 0 || m.Redundancy > MaxRedundancy:
		return chain.Wrap(chain.ErrInvalidRequest, "redundancy must be 1 to %d", MaxRedundancy)
	case m.Timeout < MinTimeout || m.Timeout > MaxTimeout:
		return chain.Wrap(chain.ErrInvalidRequest, "timeout must be %d to %d blocks", MinTimeout, MaxTimeout)
	case m.DeadlineBlocks < 2*m.Timeout || m.DeadlineBlocks > MaxDeadlineBlocks:
		return chain.Wrap(chain.ErrInvalidRequest, "deadline_blocks must be %d (twice the timeout) to %d", 2*m.Timeout, MaxDeadlineBlocks)
	case m.Redundancy == 1 && (m.ChallengeBlocks < MinChallengeBlocks || m.ChallengeBlocks > MaxChallengeBlocks):
		return chain.Wrap(chain.ErrInvalidRequest, "an optimistic job (redundancy 1) needs challenge_blocks of %d to %d", MinChallengeBlocks, MaxChallengeBlocks)
	case m.Redundancy > 1 && m.ChallengeBlocks != 0:
		return chain.Wrap(chain.ErrInvalidRequest, "challenge_blocks applies to redundancy 1 only; with %d providers the majority decides", m.Redundancy)
	}
	return nil
}

// MsgDecline gives back an assignment the sender has not committed to yet;
// the job is reassigned. Declining costs nothing; vanishing does.
type MsgDecline struct {
	Job uint64 `json:"job" cbor:"1,keyasint"`
}

func (*MsgDecline) Type() string         { return "compute/decline" }
func (*MsgDecline) ValidateBasic() error { return nil }

// MsgCommit commits the sender's result for its assignment on Job:
// Commit = CommitHash(job, sender, digest, output CID, salt).
type MsgCommit struct {
	Job    uint64 `json:"job" cbor:"1,keyasint"`
	Commit Hash   `json:"commit" cbor:"2,keyasint"`
}

func (*MsgCommit) Type() string { return "compute/commit" }
func (m *MsgCommit) ValidateBasic() error {
	if m.Commit.IsZero() {
		return chain.Wrap(chain.ErrInvalidRequest, "commitment is missing")
	}
	return nil
}

// MsgReveal opens the sender's commitment on Job. Output is the CID of the
// registered output archive blob; Digest is its SHA-256 (OutputDigest).
type MsgReveal struct {
	Job    uint64 `json:"job" cbor:"1,keyasint"`
	Digest Hash   `json:"digest" cbor:"2,keyasint"`
	Output string `json:"output" cbor:"3,keyasint"`
	Salt   Hash   `json:"salt" cbor:"4,keyasint"`
}

func (*MsgReveal) Type() string { return "compute/reveal" }
func (m *MsgReveal) ValidateBasic() error {
	if m.Salt.IsZero() {
		return chain.Wrap(chain.ErrInvalidRequest, "salt is missing")
	}
	return checkOutput(m.Digest, m.Output)
}

// MsgChallenge disputes an optimistic result during its challenge window,
// claiming the job's true output is Output (a registered archive blob). The
// sender posts ChallengeBond; referees settle the dispute.
type MsgChallenge struct {
	Job    uint64 `json:"job" cbor:"1,keyasint"`
	Digest Hash   `json:"digest" cbor:"2,keyasint"`
	Output string `json:"output" cbor:"3,keyasint"`
}

func (*MsgChallenge) Type() string           { return "compute/challenge" }
func (m *MsgChallenge) ValidateBasic() error { return checkOutput(m.Digest, m.Output) }
