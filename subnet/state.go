package subnet

import (
	"encoding/binary"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Subnet is a subnet's on-chain record.
type Subnet struct {
	ID                   uint64        `json:"id" cbor:"1,keyasint"`
	Owner                chain.Address `json:"owner" cbor:"2,keyasint"`
	Task                 string        `json:"task" cbor:"3,keyasint"`
	Dataset              string        `json:"dataset" cbor:"4,keyasint"`
	Tempo                uint64        `json:"tempo" cbor:"5,keyasint"`
	Yuma                 Hyperparams   `json:"yuma" cbor:"6,keyasint"`
	RegistrationMinStake uint64        `json:"registration_min_stake" cbor:"7,keyasint"`
	ValidatorMinStake    uint64        `json:"validator_min_stake" cbor:"8,keyasint"`
	MaxUIDs              uint16        `json:"max_uids" cbor:"9,keyasint"`
	RevealPeriod         uint64        `json:"reveal_period" cbor:"10,keyasint"`
	Created              int64         `json:"created" cbor:"11,keyasint"`
	N                    uint16        `json:"n" cbor:"12,keyasint"`     // registered uids: 0..N-1
	Epoch                uint64        `json:"epoch" cbor:"13,keyasint"` // epochs run so far; the current epoch's index
	NextEpoch            int64         `json:"next_epoch" cbor:"14,keyasint"`
	LastEpochBlock       int64         `json:"last_epoch_block" cbor:"15,keyasint"`
	Pending              uint64        `json:"pending" cbor:"16,keyasint"` // accrued emission not yet paid
	Accrued              uint64        `json:"accrued" cbor:"17,keyasint"` // all emission ever accrued to the subnet
	Minted               uint64        `json:"minted" cbor:"18,keyasint"`  // all emission ever paid out
}

// Pair is one weight or bond: a target uid and a u16 value.
type Pair struct {
	UID   uint16 `json:"uid" cbor:"1,keyasint"`
	Value uint16 `json:"value" cbor:"2,keyasint"`
}

// Neuron is one registered uid: who it is, the Yuma state the epoch reads
// and writes, and what the last epoch gave it.
type Neuron struct {
	UID          uint16        `json:"uid" cbor:"1,keyasint"`
	Account      chain.Address `json:"account" cbor:"2,keyasint"`
	Role         string        `json:"role" cbor:"3,keyasint"`
	Endpoint     string        `json:"endpoint,omitempty" cbor:"4,keyasint,omitempty"`
	RegisteredAt int64         `json:"registered_at" cbor:"5,keyasint"`
	// LastUpdate is the block of the last accepted weights (the commit's
	// block under commit-reveal), or of registration.
	LastUpdate      int64  `json:"last_update" cbor:"6,keyasint"`
	ValidatorPermit bool   `json:"validator_permit" cbor:"7,keyasint"`
	Weights         []Pair `json:"weights" cbor:"8,keyasint"` // sorted by uid, max-upscaled
	Bonds           []Pair `json:"bonds" cbor:"9,keyasint"`   // as the last epoch stored them

	// The last epoch's outputs for this uid.
	EpochStake uint64 `json:"epoch_stake" cbor:"10,keyasint"`
	Consensus  uint16 `json:"consensus" cbor:"11,keyasint"`
	Incentive  uint16 `json:"incentive" cbor:"12,keyasint"`
	Dividends  uint16 `json:"dividends" cbor:"13,keyasint"`
	Trust      uint16 `json:"validator_trust" cbor:"14,keyasint"`
	Emission   uint64 `json:"emission" cbor:"15,keyasint"` // paid at the last epoch

	// Totals since registration.
	Earned          uint64 `json:"earned" cbor:"16,keyasint"`
	EarnedIncentive uint64 `json:"earned_incentive" cbor:"17,keyasint"` // as a miner (server emission)
	EarnedDividends uint64 `json:"earned_dividends" cbor:"18,keyasint"` // as a validator (validator emission)

	// Model is the entered model this miner serves (0: none); Royalty is
	// all it paid that model from its server emission.
	Model   uint64 `json:"model,omitempty" cbor:"19,keyasint,omitempty"`
	Royalty uint64 `json:"royalty,omitempty" cbor:"20,keyasint,omitempty"`
}

// Commit is a pending weights commit of one uid, made during epoch Epoch
// and revealable while the subnet is in epoch Epoch + RevealPeriod.
type Commit struct {
	UID   uint16     `json:"uid" cbor:"1,keyasint"`
	Hash  chain.Hash `json:"hash" cbor:"2,keyasint"`
	Block int64      `json:"block" cbor:"3,keyasint"`
	Epoch uint64     `json:"epoch" cbor:"4,keyasint"`
}

// EpochUID is one uid's line in an epoch record.
type EpochUID struct {
	UID               uint16        `json:"uid" cbor:"1,keyasint"`
	Account           chain.Address `json:"account" cbor:"2,keyasint"`
	Stake             uint64        `json:"stake" cbor:"3,keyasint"`
	Consensus         uint16        `json:"consensus" cbor:"4,keyasint"`
	Incentive         uint16        `json:"incentive" cbor:"5,keyasint"`
	Dividends         uint16        `json:"dividends" cbor:"6,keyasint"`
	ServerEmission    uint64        `json:"server_emission" cbor:"7,keyasint"`
	ValidatorEmission uint64        `json:"validator_emission" cbor:"8,keyasint"`
	// Trust and Bonds (the bonds this uid holds, as stored) for the
	// per-epoch charts; Royalty is what the uid's server emission paid
	// the model it serves (included in ServerEmission).
	Trust   uint16 `json:"validator_trust" cbor:"9,keyasint"`
	Bonds   []Pair `json:"bonds,omitempty" cbor:"10,keyasint,omitempty"`
	Royalty uint64 `json:"royalty,omitempty" cbor:"11,keyasint,omitempty"`
}

// EpochRecord is the outcome of one epoch of a subnet.
type EpochRecord struct {
	Subnet   uint64     `json:"subnet" cbor:"1,keyasint"`
	Epoch    uint64     `json:"epoch" cbor:"2,keyasint"` // 1 for the first epoch run
	Height   int64      `json:"height" cbor:"3,keyasint"`
	Emission uint64     `json:"emission" cbor:"4,keyasint"` // the accrued amount the epoch distributed
	Paid     uint64     `json:"paid" cbor:"5,keyasint"`     // minted to uids
	Carry    uint64     `json:"carry" cbor:"6,keyasint"`    // rounding dust (or all of it, without stake) kept for the next epoch
	UIDs     []EpochUID `json:"uids" cbor:"7,keyasint"`
}

// EpochHistory is how many epoch records per subnet the state keeps; older
// ones are deleted so state does not grow with time.
const EpochHistory = 64

// State keys, all under "subnet/". Ids are 8-byte and uids 2-byte
// big-endian so that prefix iteration runs in id and uid order.
var (
	keySeq       = []byte("subnet/seq")
	prefixSubnet = []byte("subnet/s/")
)

func subnetKey(id uint64) []byte { return chain.Key(prefixSubnet, chain.Uint64Bytes(id)) }
func neuronPrefix(id uint64) []byte {
	return chain.Key([]byte("subnet/n/"), chain.Uint64Bytes(id))
}
func neuronKey(id uint64, uid uint16) []byte {
	return binary.BigEndian.AppendUint16(neuronPrefix(id), uid)
}
func accountKey(id uint64, a chain.Address) []byte {
	return chain.Key([]byte("subnet/a/"), chain.Uint64Bytes(id), a[:])
}
func commitPrefix(id uint64, uid uint16) []byte {
	return binary.BigEndian.AppendUint16(chain.Key([]byte("subnet/c/"), chain.Uint64Bytes(id)), uid)
}
func commitKey(id uint64, uid uint16, epoch uint64) []byte {
	return chain.Key(commitPrefix(id, uid), chain.Uint64Bytes(epoch))
}
func epochPrefix(id uint64) []byte { return chain.Key([]byte("subnet/e/"), chain.Uint64Bytes(id)) }
func epochKey(id, epoch uint64) []byte {
	return chain.Key(epochPrefix(id), chain.Uint64Bytes(epoch))
}

// Pool is the stake pool of a subnet: "subnet/<id>".
func Pool(id uint64) string { return "subnet/" + chain.U64(id) }

// GetSubnet loads a subnet.
func GetSubnet(kv store.KV, id uint64) (Subnet, error) {
	var s Subnet
	if !chain.Get(kv, subnetKey(id), &s) {
		return s, chain.Wrap(chain.ErrNotFound, "subnet %d", id)
	}
	return s, nil
}

func putSubnet(kv store.KV, s Subnet) { chain.Put(kv, subnetKey(s.ID), s) }

// GetNeuron loads uid of subnet id.
func GetNeuron(kv store.KV, id uint64, uid uint16) (Neuron, error) {
	var n Neuron
	if !chain.Get(kv, neuronKey(id, uid), &n) {
		return n, chain.Wrap(chain.ErrNotFound, "subnet %d has no uid %d", id, uid)
	}
	return n, nil
}

func putNeuron(kv store.KV, id uint64, n Neuron) { chain.Put(kv, neuronKey(id, n.UID), n) }

// UIDOf returns the uid of account a in subnet id.
func UIDOf(kv store.KV, id uint64, a chain.Address) (uint16, bool) {
	v := kv.Get(accountKey(id, a))
	if len(v) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(v), true
}

// Neurons loads every uid of subnet id in uid order.
func Neurons(kv store.KV, id uint64) []Neuron {
	var out []Neuron
	chain.Each(kv, neuronPrefix(id), func(_ []byte, n Neuron) bool {
		out = append(out, n)
		return true
	})
	return out
}

// Subnets loads every subnet in id order.
func Subnets(kv store.KV) []Subnet {
	var out []Subnet
	chain.Each(kv, prefixSubnet, func(_ []byte, s Subnet) bool {
		out = append(out, s)
		return true
	})
	return out
}

// Commits lists uid's pending commits in subnet id, oldest epoch first.
func Commits(kv store.KV, id uint64, uid uint16) []Commit {
	var out []Commit
	chain.Each(kv, commitPrefix(id, uid), func(_ []byte, c Commit) bool {
		out = append(out, c)
		return true
	})
	return out
}

// Epochs lists the kept epoch records of subnet id, oldest first.
func Epochs(kv store.KV, id uint64) []EpochRecord {
	var out []EpochRecord
	chain.Each(kv, epochPrefix(id), func(_ []byte, r EpochRecord) bool {
		out = append(out, r)
		return true
	})
	return out
}
