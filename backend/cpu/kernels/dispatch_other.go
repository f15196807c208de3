//go:build !amd64 || purego

package kernels

import "github.com/rlx-go/rlx/backend/cpu/cpuinfo"

func archImpls(*impls, cpuinfo.Level) {}
