//go:build amd64 && !purego

package kernels

import "github.com/rlx-go/rlx/backend/cpu/cpuinfo"

func archImpls(im *impls, l cpuinfo.Level) {
	l = min(l, cpuinfo.Host.MaxLevel())
	_ = im
}
