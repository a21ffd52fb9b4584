package node

import (
	"github.com/tenun-chain/tenun/api/ext"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/data/gateway"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/pipeline"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// Markets lists the market domains the chain runs, in a fixed order (their
// end-block steps run in this order).
func Markets() []chain.Domain {
	return []chain.Domain{
		data.Domain{},
		subnet.Domain{},
		label.Domain{},
		compute.Domain{},
		registry.Domain{},
		pipeline.Domain{}, // last: it reads what the markets settled in this block
	}
}

// HTTPExtensions lists the node-side HTTP routes of the markets. They run
// outside consensus, so they live in packages of their own, not in the
// domains.
func HTTPExtensions() []ext.HTTPExtension {
	return []ext.HTTPExtension{
		gateway.Extension{},
	}
}
