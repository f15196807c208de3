package main

import (
	"fmt"
	"strings"

	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/cuda/cublaslt"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/kernels"
	"github.com/rlx-go/rlx/backend/cuda/nvrtc"
)

// cudaReports describes every CUDA device for `rlx devices`: name, memory,
// compute capability, driver and library versions, and whether the
// embedded kernels compile for it. Without a driver it returns one entry
// saying why CUDA is unavailable.
func cudaReports() []deviceReport {
	n, err := driver.DeviceCount()
	if err != nil {
		return []deviceReport{{Backend: "cuda", Arch: "-", Level: "unavailable", Features: []string{err.Error()}}}
	}
	ver, _ := driver.Version()
	libs := []string{fmt.Sprintf("driver=CUDA %d.%d", ver/1000, ver%1000/10)}
	if major, minor, err := nvrtc.Version(); err == nil {
		libs = append(libs, fmt.Sprintf("nvrtc=%d.%d", major, minor))
	} else {
		libs = append(libs, "nvrtc=missing ("+err.Error()+")")
	}
	if v, err := cublaslt.Version(); err == nil {
		libs = append(libs, fmt.Sprintf("cublasLt=%d", v))
	} else {
		libs = append(libs, "cublasLt=missing ("+err.Error()+")")
	}
	var reps []deviceReport
	for i := range n {
		r := deviceReport{Backend: fmt.Sprintf("cuda:%d", i), Arch: "-", Level: "unavailable"}
		c, err := driver.Open(i)
		if err != nil {
			r.Features = []string{err.Error()}
			reps = append(reps, r)
			continue
		}
		d := c.Device
		r.Arch, r.Threads, r.Level = d.Arch(), d.SMs, d.Arch()
		r.Features = append([]string{d.Name, fmt.Sprintf("memory=%.1fGiB", float64(d.TotalMem)/(1<<30))}, libs...)
		if set, err := kernels.Load(c); err != nil {
			r.Features = append(r.Features, "kernels: "+err.Error())
		} else {
			for _, b := range set.Builds {
				how := "compiled"
				if b.Cached {
					how = "cached"
				}
				r.Features = append(r.Features, fmt.Sprintf("kernel:%s(%s)", b.File, how))
			}
			set.Close()
		}
		host := make([]string, len(cuda.HostOps))
		for i, op := range cuda.HostOps {
			host[i] = op.String()
		}
		r.Features = append(r.Features, "host-fallback:"+strings.Join(host, ","))
		c.Close()
		reps = append(reps, r)
	}
	return reps
}
