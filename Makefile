# The test command of the README. Fuzz targets get a short run each; long
# fuzzing is `go test -fuzz <Target> ./<pkg>` without -fuzztime.
FUZZTIME ?= 8s

.PHONY: test fuzz build

build:
	go build -o tenun ./cmd/tenun

# The fuzz targets run first so that the closing lines are go test's summary.
test:
	$(MAKE) fuzz
	go test -timeout 30m ./...

fuzz:
	@set -e; for t in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$t/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz $$t $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$t >/tmp/tenun-fuzz.log 2>&1 || { tail -40 /tmp/tenun-fuzz.log; echo "FAIL fuzz $$t $$f"; exit 1; }; \
	  done; \
	done; echo "fuzz: all targets passed"
