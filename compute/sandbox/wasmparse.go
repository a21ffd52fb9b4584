package sandbox

import "encoding/binary"

// memoryMinBytes returns the initial size of the linear memory a module
// defines, read from its memory section, or 0 if it defines none. Run checks
// it against the limit before instantiating, because wazero asks the memory
// allocator for the initial size up front and cannot take a refusal there.
// The module has already been validated by the compiler; anything unexpected
// yields 0 and leaves the allocator to catch it.
func memoryMinBytes(module []byte) uint64 {
	const (
		headerLen     = 8
		memorySection = 5
		pageSize      = 64 << 10
	)
	if len(module) < headerLen {
		return 0
	}
	b := module[headerLen:]
	for len(b) > 0 {
		id := b[0]
		size, n := binary.Uvarint(b[1:])
		if n <= 0 || size > uint64(len(b)-1-n) {
			return 0
		}
		body := b[1+n : 1+n+int(size)]
		b = b[1+n+int(size):]
		if id != memorySection {
			continue
		}
		count, n := binary.Uvarint(body)
		if n <= 0 || count == 0 || len(body) < n+1 {
			return 0
		}
		// limits: a flags byte (bit 0: has max, bit 1: shared, bit 2: 64-bit) then min.
		min, n2 := binary.Uvarint(body[n+1:])
		if n2 <= 0 || min > 1<<16 {
			return 0
		}
		return min * pageSize
	}
	return 0
}
