// Package sdk ships the sources of the job SDKs so tools can build jobs
// outside this repository: the Go SDK (package job and the kernels it runs
// natively) and the C SDK (c/tenun.h, for clang's wasm32-wasi target).
package sdk

import "embed"

// Files holds job/*.go, kernels/*.go and c/*; test files are included and
// callers skip them.
//
//go:embed job/*.go kernels/*.go c/*
var Files embed.FS

// GoModule is the module path the Go SDK's packages live under.
const GoModule = "github.com/tenun-chain/tenun"

// GoDirs are the directories of Files, relative to GoModule, that hold the
// Go SDK's packages.
var GoDirs = map[string]string{"job": "compute/sdk/job", "kernels": "compute/sdk/kernels"}
