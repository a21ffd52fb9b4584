package cputime

// maxrssUnit: iOS, like macOS, reports ru_maxrss in bytes.
const maxrssUnit = 1
