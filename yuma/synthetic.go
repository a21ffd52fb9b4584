package yuma

import "fmt"

// SyntheticBlock is the block at which a SyntheticSubnet is meant to run its
// epochs: every validator set its weights the block before, well inside the
// default activity cutoff, and long after everyone registered.
const SyntheticBlock = 1000

// SyntheticSubnet builds a deterministic subnet for benchmarks and tests:
// n uids, the first `validators` of which hold permits, large stakes and
// dense weights on every uid (random u16 values from a splitmix64 stream
// seeded by seed, max-upscaled as set_weights stores them); the other uids
// hold small stakes. Bonds start empty, so run a few epochs to reach a
// steady state. Integer-only, so it may live in this package.
func SyntheticSubnet(n, validators int, seed uint64) (*Subnet, error) {
	if n <= 0 || n > MaxNeurons || validators < 0 || validators > n {
		return nil, fmt.Errorf("yuma: synthetic subnet with n=%d validators=%d", n, validators)
	}
	rng := splitMix64{state: seed}
	s := &Subnet{Neurons: make([]Neuron, n), LastEpochBlock: SyntheticBlock - 360}
	for i := range s.Neurons {
		nu := &s.Neurons[i]
		nu.RegisteredAt = 1
		nu.LastUpdate = 1
		if i < validators {
			nu.Stake = 1_000_000_000_000 + rng.next()%1_000_000_000_000
			nu.ValidatorPermit = true
		} else {
			nu.Stake = rng.next() % 1_000_000_000
		}
	}
	uids := make([]uint16, n)
	for j := range uids {
		uids[j] = uint16(j)
	}
	vals := make([]uint16, n)
	for i := 0; i < validators; i++ {
		for j := range vals {
			vals[j] = uint16(rng.next())
		}
		if err := s.SetWeights(uint16(i), uids, vals, SyntheticBlock-1); err != nil {
			return nil, fmt.Errorf("yuma: synthetic weights of uid %d: %w", i, err)
		}
	}
	return s, nil
}

// splitMix64 is a tiny deterministic generator (Steele, Lea, Flood 2014);
// math/rand is kept out of this package.
type splitMix64 struct{ state uint64 }

func (r *splitMix64) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
