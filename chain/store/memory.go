package store

import (
	"sort"
)

// Memory is a plain in-memory KV, for tests and for building genesis.
type Memory struct {
	data map[string][]byte
}

// NewMemory returns an empty in-memory KV.
func NewMemory() *Memory { return &Memory{data: make(map[string][]byte)} }

func (m *Memory) Get(key []byte) []byte { return m.data[string(key)] }

func (m *Memory) Set(key, value []byte) {
	m.data[string(key)] = append([]byte{}, value...)
}

func (m *Memory) Delete(key []byte) { delete(m.data, string(key)) }

func (m *Memory) Iterate(prefix []byte, fn func(key, value []byte) bool) {
	keys := make([]string, 0)
	for k := range m.data { //determinism:allow the keys are sorted below before any use
		if len(k) >= len(prefix) && k[:len(prefix)] == string(prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !fn([]byte(k), m.data[k]) {
			return
		}
	}
}
