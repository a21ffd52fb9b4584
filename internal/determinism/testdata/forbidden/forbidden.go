// Package forbidden holds one of each construct the determinism checker must
// report. A "want:" comment lists the rules expected on its line; the
// self-test fails on any finding missing or unexpected.
package forbidden

import (
	crand "crypto/rand" // want: rand-import
	"maps"
	"math"
	"math/rand"           // want: rand-import
	mrand2 "math/rand/v2" // want: rand-import
	"reflect"
	"sort"
	"strconv"
	"sync"        // want: sync-import
	"sync/atomic" // want: sync-import
	"time"
)

var (
	_ = crand.Reader
	_ = rand.Int
	_ = mrand2.Int
)

type Prob float64 // want: float

type WithFloat struct { // want: float
	Weight float32 // want: float
	Count  int
}

var c128 complex128 // want: float

func Floats(n int) int {
	x := 1.5                               // want: float
	y := float64(n) * 2                    // want: float
	_ = 3i                                 // want: float
	_ = math.Sqrt(4)                       // want: float math-float
	_ = math.Pi                            // want: float math-float
	_ = uint64(math.MaxUint64)             // ok: an integer constant
	_ = strconv.FormatFloat(0, 'f', 2, 64) // want: float
	var p Prob                             // want: float
	_ = p                                  // want: float
	return int(x + y)                      // want: float
}

func Concurrency() {
	var mu sync.Mutex
	mu.Lock()
	mu.Unlock()
	var n atomic.Int64
	n.Add(1)
	ch := make(chan int, 1) // want: chan
	go func() {}()          // want: go
	ch <- 1                 // want: chan
	<-ch                    // want: chan
	select {                // want: select
	default:
	}
}

func Maps(m map[string]int) []string {
	var keys []string
	for k := range m { // want: map-range
		keys = append(keys, k)
	}
	for k, v := range m { //determinism:allow sorted right below
		_ = v
		keys = append(keys, k)
	}
	//determinism:allow keys are sorted right below
	for k := range m {
		keys = append(keys, k)
	}
	for k := range m { //determinism:allow
		// want-above: bad-allow map-range (an allow without a reason counts for nothing)
		keys = append(keys, k)
	}
	n := 0             //determinism:allow covers its own line only, not the next one
	for k := range m { // want: map-range
		n += len(k)
	}
	for k := range maps.Keys(m) { // want: map-range
		keys = append(keys, k)
	}
	_ = reflect.ValueOf(m).MapKeys() // want: map-range
	sort.Strings(keys)
	for _, k := range keys { // ok: a slice
		_ = k
	}
	for i := range 3 { // ok: an integer
		_ = i
	}
	return keys
}

type Clock struct{}

func (Clock) Times() int64 {
	start := time.Now()   // want: time
	_ = time.Since(start) // want: time
	_ = time.Until(start) // want: time
	time.Sleep(0)         // want: time
	_ = time.Unix(0, 0)   // ok: a pure conversion
	return start.Unix()
}

func Generic[M ~map[string]int, S ~[]int](m M, s S) int {
	n := 0
	for range m { // want: map-range
		n++
	}
	for range s { // ok: a slice type parameter
		n++
	}
	return n
}
