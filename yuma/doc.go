// Package yuma implements the Yuma consensus epoch in fixed-point integer
// arithmetic, bit-exact with Bittensor's subtensor (epoch_mechanism, the
// sparse production path): stake normalisation, validator permits, the
// weights pipeline, the stake-weighted κ-median consensus, clipping, trust,
// rank, incentive, bonds and dividends in both the original mode and Yuma 3
// (with liquid alpha), and the emission split.
//
// It runs inside consensus, so it is strictly deterministic: integer
// arithmetic only (I32F32 and I64F64 reproduce substrate-fixed's rounding),
// sorted slices and uid-order loops, no maps, floats, goroutines, clocks or
// randomness in non-test files (TestConsensusCodeRules enforces this).
//
// The chain keeps a Subnet (plain, serialisable data) per subnet, updates it
// with SetWeights, Register and SetStake as transactions arrive, and calls
// Epoch from its end-block when an epoch is due:
//
//	res, err := yuma.Epoch(subnet, params, block, emission)
//	// pay res.ServerEmission and res.ValidatorEmission, then:
//	subnet.LastEpochBlock = block
//
// Epoch writes the new bonds and validator permits back into the Subnet.
// Scenario files (see README.md) replay histories; testdata/ holds the
// spec's vectors in that form. Package yuma/floatref is a float64 reference
// for checks and benchmarks only.
package yuma
