# Sourced by the app's shell tests (`source .../app_test_env.sh "$@"`): the two arguments every one
# takes, a scratch directory removed on exit, and mpirun allowed as root with one BLAS thread per rank.
#   $1: the ladder-bench binary   $2: the source tree
bench=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
