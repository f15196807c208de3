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
	root=$PWD
	fail=0
	# bin/cuda/tests lists "binary package-dir test-filter": each binary
	# runs in its package's directory, where its testdata is.
	while read -r name dir filter; do
		echo "=== bin/cuda/$name.test (in $dir, -test.run '$filter')"
		(cd "$dir" && "$root/bin/cuda/$name.test" -test.v -test.count=1 -test.run "$filter" "${@:2}" </dev/null) || fail=1
	done < <(awk '!seen[$0]++' bin/cuda/tests)
	exit $fail
fi

mkdir -p bin/cuda
rm -f bin/cuda/*.test bin/cuda/tests
export CGO_ENABLED=0 GOOS=linux GOARCH="${GOARCH:-amd64}"
# Every CUDA package runs all its tests; packages with GPU tests among
# others run only those (TestCUDA…, TestDeviceNames).
build() { # package, test filter
	local pkg=$1 filter=$2 dir name
	dir=$(go list -f '{{.Dir}}' "$pkg")
	dir=${dir#"$PWD"}
	dir=.${dir}
	name=$(echo "${pkg#github.com/rlx-go/}" | tr / _)
	# -c writes nothing for a package without tests.
	go test -c -trimpath -ldflags="-s -w" -o "bin/cuda/$name.test" "$pkg"
	if [[ -f "bin/cuda/$name.test" ]]; then
		echo "$name $dir $filter" >>bin/cuda/tests
	fi
}
for pkg in $(go list ./backend/cuda/...); do
	build "$pkg" .
done
build github.com/rlx-go/rlx 'TestCUDA|TestDeviceNames'
go build -trimpath -ldflags="-s -w" -o bin/cuda/rlx ./cmd/rlx
# One compressed archive to carry (the whole tree a device tool copies may
# be size-limited).
tar czf bin/cuda.tgz -C bin cuda
ls -l bin/cuda/ bin/cuda.tgz
