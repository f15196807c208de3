//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly) || purego

package mmap

import "os"

func mapFile(*os.File, int) ([]byte, bool) { return nil, false }

func unmap([]byte) error { return nil }

func dontNeed([]byte) error { return nil }
