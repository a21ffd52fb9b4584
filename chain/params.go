package chain

// Params are the chain-wide rules set at genesis.
type Params struct {
	MaxTxBytes      int    `json:"max_tx_bytes" cbor:"1,keyasint"`     // a transaction larger than this is rejected
	MinFee          uint64 `json:"min_fee" cbor:"2,keyasint"`          // utnn every transaction pays at least
	UnbondingBlocks int64  `json:"unbonding_blocks" cbor:"3,keyasint"` // blocks before unbonded stake is liquid
	MaxBlobBytes    uint64 `json:"max_blob_bytes" cbor:"4,keyasint"`   // largest blob that can be registered
	// StorageFeePerByte (utnn) is charged to whoever registers a blob, to
	// the fee collector; BlobQuotaBytes caps the bytes one account may
	// register (0: no cap). Nodes refuse uploads an account cannot pay for.
	StorageFeePerByte uint64 `json:"storage_fee_per_byte" cbor:"5,keyasint"`
	BlobQuotaBytes    uint64 `json:"blob_quota_bytes" cbor:"6,keyasint"`
}

// DefaultParams are the devnet defaults.
func DefaultParams() Params {
	return Params{
		MaxTxBytes:      1 << 20,
		MinFee:          10,
		UnbondingBlocks: 20,
		MaxBlobBytes:    64 << 20,
		// 1 TNN per MiB stored; 1 GiB per account.
		StorageFeePerByte: 1,
		BlobQuotaBytes:    1 << 30,
	}
}

// Denom is the native token's base unit; 1 TNN = 1,000,000 utnn.
const Denom = "utnn"
