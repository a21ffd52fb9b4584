# The test command of the README. Fuzz targets get a short run each; long
# fuzzing is `go test -fuzz <Target> ./<pkg>` without -fuzztime.
FUZZTIME ?= 8s

.PHONY: test fuzz build check

build:
	go build -o tenun ./cmd/tenun

# The fuzz targets run first so that the closing lines are go test's summary.
test:
	$(MAKE) fuzz
	go test -timeout 30m ./...

# Each fuzz package's test binary is compiled once and run per target.
fuzz:
	FUZZTIME=$(FUZZTIME) .ci/fuzz

# What must hold before the tests: a tidy go.mod, the Windows and macOS
# builds, and the binary without cgo (internal/buildcheck repeats these).
check:
	go mod tidy -diff
	GOOS=windows GOARCH=amd64 go build ./...
	GOOS=darwin GOARCH=arm64 go build ./...
	CGO_ENABLED=0 go build -o /dev/null ./cmd/tenun
