#!/usr/bin/env bash
# Builds the CUDA test binaries and rlx into bin/cuda/ (git-ignored) without cgo
# or the CUDA toolkit, so that they can be copied to a GPU machine that has
# no Go and run there. See docs/cuda.md.
#
#   scripts/gpu-test.sh          build bin/cuda/*.test and bin/cuda/rlx
#   scripts/gpu-test.sh run      run the built binaries (on the GPU machine;
#                                unpacks bin/cuda.tgz if only that was copied)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-build}" == run ]]; then
	# Only the archive may have been carried over.
	if ! compgen -G 'bin/cuda/*.test' >/dev/null; then
		tar xzf bin/cuda.tgz -C bin
	fi
	fail=0
	for t in bin/cuda/*.test; do
		echo "=== $t"
		# Tests read testdata relative to their package; CUDA tests need none.
		"./$t" -test.v -test.count=1 "${@:2}" || fail=1
	done
	exit $fail
fi

mkdir -p bin/cuda
rm -f bin/cuda/*.test
export CGO_ENABLED=0 GOOS=linux GOARCH="${GOARCH:-amd64}"
for pkg in $(go list ./backend/cuda/...); do
	name=$(echo "${pkg#github.com/rlx-go/rlx/}" | tr / _)
	# -c writes nothing for a package without tests.
	go test -c -trimpath -ldflags="-s -w" -o "bin/cuda/$name.test" "$pkg"
done
go build -trimpath -ldflags="-s -w" -o bin/cuda/rlx ./cmd/rlx
# One compressed archive to carry (the whole tree a device tool copies may
# be size-limited).
tar czf bin/cuda.tgz -C bin cuda
ls -l bin/cuda/ bin/cuda.tgz
