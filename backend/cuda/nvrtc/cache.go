package nvrtc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// CacheDir is where CompileCached keeps its results: RLX_CUDA_CACHE, else
// the user cache directory's rlx/cuda.
func CacheDir() (string, error) {
	if d := os.Getenv("RLX_CUDA_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "rlx", "cuda"), nil
}

// CacheKey names the output of compiling src with opts for a driver: the
// hash covers the source, the options, the NVRTC and driver versions, so a
// cached image is never used by a toolchain or driver it was not built for.
func CacheKey(src, name string, opts Options, driverVersion int) (string, error) {
	major, minor, err := Version()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "rlx-nvrtc-1\x00%s\x00%s\x00%d.%d\x00%d\x00", name, strings.Join(opts.args(), "\x00"), major, minor, driverVersion)
	h.Write([]byte(src))
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// CompileCached is Compile with an on-disk cache. A cache that cannot be
// read or written only costs a compilation (logged at debug level); cached
// files are written atomically so concurrent processes never read a torn
// image. hit reports whether the result came from the cache.
func CompileCached(src, name string, opts Options, driverVersion int) (image []byte, hit bool, err error) {
	key, err := CacheKey(src, name, opts, driverVersion)
	if err != nil {
		return nil, false, err
	}
	ext := ".cubin"
	if strings.HasPrefix(opts.Arch, "compute_") {
		ext = ".ptx"
	}
	dir, derr := CacheDir()
	var path string
	if derr == nil {
		path = filepath.Join(dir, key+ext)
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b, true, nil
		}
	}
	image, err = Compile(src, name, opts)
	if err != nil {
		return nil, false, err
	}
	if derr != nil {
		slog.Debug("nvrtc: no cache directory", "err", derr)
		return image, false, nil
	}
	if err := writeAtomic(dir, path, image); err != nil {
		slog.Debug("nvrtc: cache write failed", "path", path, "err", err)
	}
	return image, false, nil
}

func writeAtomic(dir, path string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}
