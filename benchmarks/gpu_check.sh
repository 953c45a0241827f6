#!/usr/bin/env bash
# The device check: one prepared run on a GPU machine (see BENCHMARKS.md, "GPU check").
#
#   benchmarks/gpu_check.sh [--quick] [--out DIR]
#
# Steps, each time-boxed with `timeout`, each writing its log and a steps/<step>.json
# (status ok | failed | timeout | skipped, seconds) into DIR as soon as it ends;
# gpu_check.json and gpu_check.md are rebuilt from what finished after every step:
#   install   the wheels in .whl/ (if any) into /tmp/site, put first on PYTHONPATH
#   reproduce `reproduce clevr-seg` on JAX (the paper's settings, trained and scored as
#             the authors' code does) into a temporary folder, in parallel with
#   tests     tests/layers and tests/models on JAX and on PyTorch (exact float32:
#             JAX_DEFAULT_MATMUL_PRECISION=highest, NVIDIA_TF32_OVERRIDE=0); then
#   bench     `inside-keras bench --suite gpu` on JAX, then on PyTorch (alone on the device)
#   compile   `inside-keras bench --suite gpu-compile` on PyTorch: eager against
#             torch.compile (on JAX in --quick: XLA compiles in seconds on a CPU)
# The whole run keeps within GPU_CHECK_BUDGET seconds (default 580; --quick 380).
# --quick: the same steps on a CPU with tiny sizes (no wheel install; the current
# environment must hold Keras, JAX and PyTorch).
set -uo pipefail

QUICK=0
OUT=gpu_check
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --out) OUT="${2:?--out needs a folder}"; shift ;;
        *) echo "usage: $0 [--quick] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$OUT/logs" "$OUT/steps" || exit 2
OUT="$(cd "$OUT" && pwd)"
cd "$ROOT" || exit 2
PYTHON="${PYTHON:-python3}"
START=$(date +%s)
if [ "$QUICK" = 1 ]; then
    BUDGET="${GPU_CHECK_BUDGET:-380}"
    BENCH=(--quick)
    BENCH_LIMITS=(jax:45 torch:30)
    COMPILE=(jax 60)
    TESTS=(tests/models/test_encoder_decoder.py)
    TEST_LIMIT=70
    REPRODUCE=(--quick --jobs 2 --set data.generate.images=100 --set data.generate.size=32
        --set training.epochs=1)
    REPRODUCE_LIMIT=150
else
    BUDGET="${GPU_CHECK_BUDGET:-580}"
    BENCH=()
    BENCH_LIMITS=(jax:40 torch:50)
    COMPILE=(torch 100)
    TESTS=(tests/layers tests/models)
    TEST_LIMIT=200
    REPRODUCE=(--jobs 5) # every method of the spec at once
    REPRODUCE_LIMIT=290
fi
SUMMARY_RESERVE=15 # seconds kept for the last summary

elapsed() { echo $(($(date +%s) - START)); }
left() { echo $((BUDGET - SUMMARY_RESERVE - $(elapsed))); }

summarize() {
    "$PYTHON" benchmarks/gpu_check_summary.py "$OUT" --budget "$BUDGET" --quick "$QUICK" \
        >>"$OUT/logs/summary.log" 2>&1
}

# run_step NAME LIMIT COMMAND...: COMMAND under `timeout LIMIT`, its output in
# logs/NAME.log, then steps/NAME.json; the summary is rebuilt.
run_step() {
    local name="$1" limit="$2" begin rc status
    shift 2
    begin=$(date +%s)
    if [ "$limit" -lt 5 ]; then
        rc=0 status=skipped
        echo "no time left (${limit} s)" >"$OUT/logs/$name.log"
    else
        timeout --kill-after=10 "$limit" "$@" >"$OUT/logs/$name.log" 2>&1
        rc=$?
        case "$rc" in
            0) status=ok ;;
            124 | 137) status=timeout ;;
            *) status=failed ;;
        esac
    fi
    printf '{"step": "%s", "status": "%s", "exit_code": %d, "seconds": %d, "limit_s": %d}\n' \
        "$name" "$status" "$rc" $(($(date +%s) - begin)) "$limit" >"$OUT/steps/$name.json"
    summarize
    return 0
}

trap 'summarize; exit 143' TERM INT

# install: the carried wheels (Keras and the small dependencies the device lacks).
if [ "$QUICK" = 0 ] && compgen -G ".whl/*.whl" >/dev/null; then
    run_step install 120 "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site:$ROOT"
else
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
# JAX takes 75 % of a GPU's memory at start unless told not to; several processes share it.
export XLA_PYTHON_CLIENT_PREALLOCATE=false

# devices: what each backend computes on.
for backend in jax torch; do
    run_step "device-$backend" 60 env KERAS_BACKEND="$backend" "$PYTHON" -c '
import json, keras
from inside_keras.benchmark.gpu_memory import gpu_name
backend = keras.backend.backend()
info = {"backend": backend, "keras": keras.__version__, "gpu": gpu_name(backend)}
if backend == "jax":
    import jax
    info["devices"] = [str(d) for d in jax.devices()]
else:
    import torch
    info["cuda_available"] = torch.cuda.is_available()
    info["torch"] = torch.__version__
print(json.dumps(info))' &
done
wait

# reproduce first: the comparison is what the device is for. Beside it the tests
# (correctness only); on a 2-core CPU (--quick) they would starve each other: the tests
# follow it there.
WORK="$(mktemp -d /tmp/gpu-check.XXXXXX)"
echo "$WORK" >"$OUT/reproduce_dir.txt"
limit=$REPRODUCE_LIMIT
[ "$limit" -gt "$(left)" ] && limit=$(left)
run_step reproduce "$limit" env KERAS_BACKEND=jax "$PYTHON" -m inside_keras reproduce \
    clevr-seg "${REPRODUCE[@]}" --out "$WORK/reproduce" --data "$WORK/data" &
[ "$QUICK" = 1 ] && wait
for backend in jax torch; do
    limit=$TEST_LIMIT
    [ "$limit" -gt "$(left)" ] && limit=$(left)
    run_step "tests-$backend" "$limit" env KERAS_BACKEND="$backend" \
        JAX_DEFAULT_MATMUL_PRECISION=highest NVIDIA_TF32_OVERRIDE=0 \
        "$PYTHON" -m pytest "${TESTS[@]}" -q -x -p no:cacheprovider &
done
wait

# bench: alone on the device, one backend after the other, then eager against compiled.
for entry in "${BENCH_LIMITS[@]}"; do
    backend="${entry%%:*}" limit="${entry##*:}"
    available=$(($(left) - 30))
    [ "$limit" -gt "$available" ] && limit=$available
    run_step "bench-$backend" $((limit + 30)) env KERAS_BACKEND="$backend" \
        "$PYTHON" -m inside_keras bench --suite gpu \
        "${BENCH[@]}" --backend "$backend" --time-limit "$((limit > 1 ? limit : 1))" \
        --json "$OUT/bench-$backend.json"
done
backend="${COMPILE[0]}" limit="${COMPILE[1]}"
available=$(($(left) - 20))
[ "$limit" -gt "$available" ] && limit=$available
run_step "compile-$backend" $((limit + 20)) env KERAS_BACKEND="$backend" \
    "$PYTHON" -m inside_keras bench --suite gpu-compile "${BENCH[@]}" --backend "$backend" \
    --time-limit "$((limit > 1 ? limit : 1))" --json "$OUT/compile-$backend.json"
summarize
echo "gpu check done in $(elapsed) s: $OUT/gpu_check.md"
cat "$OUT/gpu_check.md"
! grep -l '"status": "failed"' "$OUT"/steps/*.json
