package cli

import (
	"fmt"
	"runtime"
	"time"

	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/train"
)

// Case (pieces): an accuracy claim over the last 1,000 digit rows, held out
// from a digits MLP trained on the first 797, proven as pieces of
// zkPieceRows rows under one accuracy circuit, each proof verified; the
// claim is the pieces' counts added up, as the registry records it for a
// test set registered as pieces (MsgRegisterTestSet.Pieces).
const (
	zkPieces    = 4
	zkPieceRows = 250
)

func benchZkPieces(ds *model.Dataset, logf func(string, ...any)) (*zkBenchRow, error) {
	held := ds.Len() - zkPieces*zkPieceRows
	if held < 100 {
		return nil, fmt.Errorf("digits data has %d rows: need %d held out and some to train on", ds.Len(), zkPieces*zkPieceRows)
	}
	trainSet, err := ds.Slice(0, held)
	if err != nil {
		return nil, err
	}
	test, err := ds.Slice(held, ds.Len())
	if err != nil {
		return nil, err
	}
	logf("(pieces) training the digits MLP on the first %d rows", held)
	f, err := train.Train(trainSet, 10, train.DigitsTrainConfig())
	if err != nil {
		return nil, err
	}
	m, err := train.Quantize(f, trainSet, train.QuantizeConfig{})
	if err != nil {
		return nil, err
	}
	plain, err := m.Accuracy(test)
	if err != nil {
		return nil, err
	}
	zkResetPeak()
	row := &zkBenchRow{System: "gnark " + func() string { v, _ := prover.Versions(); return v }() + " groth16 bn254"}
	spec := prover.Spec{Kind: prover.KindAccuracy, Arch: m.Arch, Rows: zkPieceRows}
	logf("(pieces) accuracy circuit over %d rows: compile and setup", zkPieceRows)
	start := time.Now()
	ccs, err := prover.Compile(spec)
	if err != nil {
		return nil, err
	}
	row.CompileSeconds, row.Constraints = time.Since(start).Seconds(), ccs.GetNbConstraints()
	start = time.Now()
	keys, err := prover.Setup(spec, ccs)
	if err != nil {
		return nil, err
	}
	row.SetupSeconds = time.Since(start).Seconds()
	vk, err := keys.VerifyingKeyBytes()
	if err != nil {
		return nil, err
	}
	hashes := make([]model.Digest, zkPieces)
	var k int
	var verify time.Duration
	for i := range zkPieces {
		part, err := test.Slice(i*zkPieceRows, (i+1)*zkPieceRows)
		if err != nil {
			return nil, err
		}
		if hashes[i], err = m.Arch.TestSetHash(part); err != nil {
			return nil, err
		}
		a, ki, err := circuit.AccuracyAssignment(m, part, -1)
		if err != nil {
			return nil, err
		}
		logf("(pieces) proving piece %d of %d", i+1, zkPieces)
		runtime.GC()
		cpu0, t0 := zkCPUTime(), time.Now()
		proof, pub, err := keys.Prove(a)
		if err != nil {
			return nil, err
		}
		row.ProveSeconds += time.Since(t0).Seconds()
		row.ProveCPU += zkCPUTime() - cpu0
		row.ProofBytes += len(proof)
		// The public inputs the chain lays out for this piece's claim.
		want, err := zkml.AccuracyClaim{Model: mustCommit(m), TestSet: hashes[i], N: zkPieceRows, K: ki}.PublicInputs()
		if err != nil {
			return nil, err
		}
		if len(want) != len(pub) {
			return nil, fmt.Errorf("piece %d: %d public inputs, the claim lays out %d", i, len(pub), len(want))
		}
		t0 = time.Now()
		if err := zkml.Verify(vk, proof, want); err != nil {
			return nil, fmt.Errorf("piece %d: own proof rejected: %w", i, err)
		}
		verify += time.Since(t0)
		k += ki
	}
	if k != plain {
		return nil, fmt.Errorf("pieces prove %d correct, plain inference counts %d", k, plain)
	}
	root, err := model.PiecesRoot(hashes)
	if err != nil {
		return nil, err
	}
	n := zkPieces * zkPieceRows
	row.VerifyMillis = float64(verify.Microseconds()) / 1000
	row.PeakMemMB = zkPeakMB()
	row.Case = "pieces"
	row.Name = fmt.Sprintf("digits %s accuracy over %d held-out rows as %d pieces of %d (constraints, setup: one piece's circuit; prove, verify, proof: all pieces)",
		m.Arch, n, zkPieces, zkPieceRows)
	row.Claim = fmt.Sprintf("at least %d of %d correct (%.1f%%), set root %s", k, n, 100*float64(k)/float64(n), root)
	row.Target = "one claim over >= 1,000 rows"
	row.TargetMet = zkBool(n >= 1000)
	row.Note = "prove and verify summed over the pieces"
	return row, nil
}

// mustCommit is m's commitment (m was validated by Quantize).
func mustCommit(m *model.Model) model.Digest {
	c, _ := m.ComputeCommitment()
	return c
}
