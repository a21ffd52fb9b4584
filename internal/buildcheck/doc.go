// Package buildcheck holds the tests that the module builds where its users
// build it: for Windows and macOS, without cgo, and from a tidy go.mod. CI
// (.ci/run, `make check`) runs the same commands before the test suite, so
// the build cache is warm when these tests repeat them.
package buildcheck
