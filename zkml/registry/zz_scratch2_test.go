package registry

import "github.com/tenun-chain/tenun/zkml"

func zkmlParse(b []byte) (*zkml.VerifyingKey, error) { return zkml.ParseVerifyingKey(b) }
