// Command probe is the sandbox tests' guest, built for GOOS=wasip1. Each mode
// tries something a job might do and reports what happened, one line per
// attempt, on stdout and in /out/report.txt:
//
//	probe escape HOSTFILE TCPADDR  try to reach host files and the network
//	probe alloc MIB                allocate and touch MIB mebibytes
//	probe write BYTES              write a file of BYTES bytes to /out
//	probe exit CODE                exit with CODE
//	probe env                      report args, environment, clock and randomness
//	probe fs                       exercise the output directory
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

var report strings.Builder

func note(attempt string, err error) {
	if err != nil {
		fmt.Fprintf(&report, "%s\tdenied: %v\n", attempt, err)
	} else {
		fmt.Fprintf(&report, "%s\tallowed\n", attempt)
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe MODE [ARGS]")
		os.Exit(2)
	}
	arg := func(i int) string {
		if len(os.Args) <= i {
			fmt.Fprintf(os.Stderr, "mode %s needs argument %d\n", os.Args[1], i-1)
			os.Exit(2)
		}
		return os.Args[i]
	}
	switch os.Args[1] {
	case "escape":
		escape(arg(2), arg(3))
	case "alloc":
		n, _ := strconv.Atoi(arg(2))
		var keep [][]byte
		for i := 0; i < n; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = byte(i) // touch every page
			}
			keep = append(keep, b)
		}
		fmt.Fprintf(&report, "allocated %d MiB\n", len(keep))
	case "write":
		n, _ := strconv.Atoi(arg(2))
		err := os.WriteFile("/out/big.bin", make([]byte, n), 0o644)
		note("write", err)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "exit":
		code, _ := strconv.Atoi(arg(2))
		os.Exit(code)
	case "env":
		fmt.Fprintf(&report, "args %q\n", os.Args)
		fmt.Fprintf(&report, "env %q\n", os.Environ())
		fmt.Fprintf(&report, "now %d\n", time.Now().UnixNano())
		start := time.Now()
		time.Sleep(time.Second)
		fmt.Fprintf(&report, "slept %v\n", time.Since(start) >= time.Second)
		var r [16]byte
		_, _ = rand.Read(r[:])
		fmt.Fprintf(&report, "rand %s\n", hex.EncodeToString(r[:]))
		if wd, err := os.Getwd(); err == nil {
			fmt.Fprintf(&report, "wd %s\n", wd)
		}
	case "fs":
		if err := fsOps(); err != nil {
			fmt.Fprintln(os.Stderr, "fs:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
	fmt.Print(report.String())
	if err := os.WriteFile("/out/report.txt", []byte(report.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "write report:", err)
		os.Exit(1)
	}
}

func escape(hostFile, tcpAddr string) {
	read := func(name, path string) {
		_, err := os.ReadFile(path)
		note(name, err)
	}
	read("read-given-input", "/in/secret.txt")
	read("read-host-file", hostFile)
	read("read-etc-passwd", "/etc/passwd")
	read("read-dotdot-from-in", "/in/../etc/passwd")
	read("read-dotdot-relative", "../../../../etc/passwd")
	read("read-proc", "/proc/self/environ")
	read("read-host-file-via-in", "/in"+hostFile)
	_, err := os.ReadDir("/")
	note("list-root", err)
	entries, err := os.ReadDir("/in")
	if err == nil {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		fmt.Fprintf(&report, "in-entries\t%s\n", strings.Join(names, ","))
	}
	note("write-input-dir", os.WriteFile("/in/new.txt", []byte("x"), 0o644))
	note("overwrite-input", os.WriteFile("/in/secret.txt", []byte("x"), 0o644))
	note("remove-input", os.Remove("/in/secret.txt"))
	note("mkdir-outside", os.Mkdir("/tmp-escape", 0o755))
	note("symlink-out", os.Symlink("/etc/passwd", "/out/link"))
	note("symlink-relative", os.Symlink("../in/secret.txt", "/out/link2"))
	note("hardlink-input", os.Link("/in/secret.txt", "/out/hard"))
	note("rename-input", os.Rename("/in/secret.txt", "/out/stolen"))
	conn, err := net.Dial("tcp", tcpAddr)
	if err == nil {
		conn.Close()
	}
	note("dial-tcp", err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		l.Close()
	}
	note("listen-tcp", err)
	for fd := 3; fd < 8; fd++ { // pre-opened sockets would show up as files
		f := os.NewFile(uintptr(fd), "fd")
		if l, err := net.FileListener(f); err == nil {
			l.Close()
			note("socket-fd-"+strconv.Itoa(fd), nil)
		}
	}
}

func fsOps() error {
	if err := os.MkdirAll("/out/a/b", 0o755); err != nil {
		return err
	}
	if err := os.WriteFile("/out/a/b/c.txt", []byte("hello"), 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile("/out/a/b/c.txt", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(" world"); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename("/out/a/b/c.txt", "/out/a/c.txt"); err != nil {
		return err
	}
	if err := os.WriteFile("/out/t.txt", make([]byte, 100), 0o644); err != nil {
		return err
	}
	if err := os.Truncate("/out/t.txt", 3); err != nil {
		return err
	}
	if err := os.WriteFile("/out/gone.txt", []byte("x"), 0o644); err != nil {
		return err
	}
	if err := os.Remove("/out/gone.txt"); err != nil {
		return err
	}
	entries, err := os.ReadDir("/out/a")
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	fmt.Fprintf(&report, "readdir %s\n", strings.Join(names, ","))
	st, err := os.Stat("/out/a/c.txt")
	if err != nil {
		return err
	}
	fmt.Fprintf(&report, "size %d mtime %d\n", st.Size(), st.ModTime().Unix())
	f, err = os.Open("/out/a/c.txt")
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(6, 0); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := f.Read(buf); err != nil {
		return err
	}
	at := make([]byte, 5)
	if _, err := f.ReadAt(at, 0); err != nil {
		return err
	}
	fmt.Fprintf(&report, "seek-read %s readat %s\n", buf, at)
	return nil
}
