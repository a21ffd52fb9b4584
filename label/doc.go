// Package label is the annotation market's chain domain: requesters post
// labeling jobs with an escrowed budget, staked annotators label items with
// commit-reveal, and at close the chain infers each item's label with
// label/truth, pays annotators by quality and slashes those below the job's
// bar. It is consensus code: integer arithmetic only, no map ranges, no
// clock, no goroutines, randomness only from ctx.Block.Rand.
//
// # A job's life
//
//  1. create-job: items (inline text, or a registered blob of JSONL/CSV rows
//     whose bytes the chain never reads), the label set, redundancy, reward
//     per answer, required stake, phase lengths and a salted hash of the gold
//     questions. The budget, items x max redundancy x reward, is locked in
//     escrow "label/<id>"; a requester who cannot pay is refused.
//  2. join: an annotator with enough stake bonded in pool "label" (not already
//     backing other open jobs) joins and is assigned a batch of items drawn
//     from ctx.Block.Rand. "more" asks for the next batch once every assigned
//     item is committed. Gold items are ordinary items to the chain (only
//     their hash is known), so nobody can tell them apart.
//  3. commit: sha256 of (job, item, label, salt, worker), see CommitHash.
//  4. reveal: the label and salt. An item's answers can be revealed only once
//     every annotator assigned to it has committed (or the commit phase has
//     ended), so nobody sees a label of an item before committing their own.
//     When an item's answers are all revealed and its posterior confidence
//     (one-coin model, see overlapConfidence) is below the job's threshold,
//     the item needs one more answer, up to the job's max redundancy; later
//     assignment rounds hand those slots out (dynamic overlap).
//  5. close: the requester reveals the gold (checked against its hash); the
//     chain runs truth.Best with the gold clamped, scores each worker from its
//     estimated accuracy and its gold reputation, pays each revealed answer
//     reward x score to workers at or above the quality bar, slashes the
//     job's stake from those below it (reason: one-label-always, random
//     clicking or spam), refunds the rest, and records the results and the
//     CID of their canonical encoding (EncodeResults) for provenance.
//     A requester who has not closed GraceBlocks after the reveal phase
//     forfeits: EndBlock (or anyone, with a close message) settles the job
//     without gold and the whole escrow goes to the qualifying workers.
//
// # Bounds
//
// A job has at most MaxItems items, MaxLabels labels, MaxRedundancy answers
// per item, MaxAnswerSlots answer slots in all (items x max redundancy; a
// multi-label job's slots times its labels, one yes/no answer each) and
// MaxWorkers workers; a message carries at most MaxBatch entries. A job
// whose inference sees at most MaxOneBlockAnswers answers closes in the
// close message: at most 16,384 answers from 256 workers over 16 labels,
// two inference passes of at most InferenceMaxIter EM rounds plus the
// leave-one-out scores, about 0.4 s in the worst single-choice shape
// (4,096 items x 4 answers, EM not converging) on one core of a busy
// 2-core machine, 40 ms when EM converges (TestInferenceBound logs both).
//
// A larger job, of any task type, closes over blocks (closing.go,
// closing_typed.go): the close message checks the gold and marks the job
// closing, and EndBlock works through it, a bounded amount each block:
// CloseCollectPerBlock answers read, CloseAnswerRoundsPerBlock
// answer-rounds of EM (Dawid-Skene for single choice and multi-label,
// the bias and noise model for ratings; at least one round), or
// CloseBoxWorkPerBlock units of box fusion (truth.BoxItemWork; at least
// one image), then the scores and the settle. Each step gives the bits
// of the one-block close (TestTypedCloseOverBlocksMatchesOneBlock,
// TestCloseOverBlocksMatchesOneBlock), and each block reports its work in
// a label_closing_step event (TestTypedCloseBound: 100,000-item rating
// and box jobs). Creating a job pays for it up front
// (MsgCreateJob.ExtraFee), and EndBlock settles at most
// MaxForfeitsPerBlock forfeited jobs per block.
package label
