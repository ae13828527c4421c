#!/usr/bin/env bash
# glassnet against PyTorch at 4, 8 and 16 threads each, on a machine with 16 or more CPU cores:
# benchmarks/bench_engine.py's case list and method, one run per thread count, plus a note of
# the machine and its load. Made to fit a 15-minute slot on a borrowed machine: about 2-3
# minutes per run there (fewer repetitions than the 11 of docs/benchmarks.md's 2-core runs),
# each run cut off after RUN_SECONDS.
#
#     bash benchmarks/bench_cores.sh [output folder]    (default: $OUT, else bench-cores/)
#
# Needs a Python with glassnet's test extra installed (numpy, numba, scipy, threadpoolctl,
# torch==2.13.0): PYTHON, else .venv/bin/python (bash scripts/setup.sh test makes it), else python3.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
out=${1:-${OUT:-bench-cores}}
reps=${REPS:-5}
run_seconds=${RUN_SECONDS:-240}
mkdir -p "$out"
{
    date -u '+%Y-%m-%d %H:%M:%S UTC'
    echo "CPUs usable: $("$py" -c 'import os; print(len(os.sched_getaffinity(0)))')"
    lscpu | grep -E 'Model name|^CPU\(s\)|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|L2|L3' || true
    echo "load average: $(cat /proc/loadavg)"
    "$py" -c 'import glassnet, numpy, torch; print("glassnet", glassnet.__version__, "numpy", numpy.__version__, "torch", torch.__version__)'
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"
for n in 4 8 16; do
    timeout "$run_seconds" "$py" benchmarks/bench_engine.py --threads "$n" --reps "$reps" 2>&1 | tee "$out/threads-$n.txt"
done
echo "load average after: $(cat /proc/loadavg)" | tee -a "$out/machine.txt"
