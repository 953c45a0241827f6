#!/usr/bin/env bash
# The device check: one prepared run on a GPU machine (see BENCHMARKS.md, "GPU check").
#
#   benchmarks/gpu_check.sh [--quick] [--out DIR]
#
# Steps, each time-boxed with `timeout`, each writing its log and a steps/<step>.json
# (status ok | failed | timeout | skipped, seconds) into DIR as soon as it ends;
# gpu_check.json and gpu_check.md are rebuilt from what finished after every step:
#   install   the wheels in .whl/ (if any) into /tmp/site, put first on PYTHONPATH
#   bench     `inside-keras bench --suite gpu` on JAX, then on PyTorch (alone on the GPU)
#   tests     tests/layers and tests/models on JAX and on PyTorch (exact float32:
#             JAX_DEFAULT_MATMUL_PRECISION=highest, NVIDIA_TF32_OVERRIDE=0), in parallel
#             with
#   reproduce `reproduce clevr-seg` on JAX (the paper's settings) into a temporary folder
# The whole run keeps within GPU_CHECK_BUDGET seconds (default 540; --quick 330).
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
    BUDGET="${GPU_CHECK_BUDGET:-330}"
    BENCH=(--quick)
    BENCH_LIMITS=(jax:45 torch:30)
    TESTS=(tests/models/test_encoder_decoder.py)
    TEST_LIMIT=70
    REPRODUCE=(--quick --jobs 2 --set data.generate.images=100 --set data.generate.size=32
        --set training.epochs=1)
else
    BUDGET="${GPU_CHECK_BUDGET:-540}"
    BENCH=()
    BENCH_LIMITS=(jax:160 torch:70)
    TESTS=(tests/layers tests/models)
    TEST_LIMIT=200
    REPRODUCE=(--jobs 5) # every method of the spec at once
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

# bench: alone on the device, one backend after the other.
for entry in "${BENCH_LIMITS[@]}"; do
    backend="${entry%%:*}" limit="${entry##*:}"
    available=$(($(left) - 60))
    [ "$limit" -gt "$available" ] && limit=$available
    run_step "bench-$backend" $((limit + 30)) env KERAS_BACKEND="$backend" \
        "$PYTHON" -m inside_keras bench --suite gpu \
        "${BENCH[@]}" --backend "$backend" --time-limit "$((limit > 1 ? limit : 1))" \
        --json "$OUT/bench-$backend.json"
done

# reproduce (the rest of the budget) beside the tests (correctness only). On a
# 2-core CPU (--quick) they would starve each other: the tests follow it there.
WORK="$(mktemp -d /tmp/gpu-check.XXXXXX)"
echo "$WORK" >"$OUT/reproduce_dir.txt"
limit=$(left)
[ "$QUICK" = 1 ] && limit=$((limit - TEST_LIMIT))
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
summarize
echo "gpu check done in $(elapsed) s: $OUT/gpu_check.md"
cat "$OUT/gpu_check.md"
! grep -l '"status": "failed"' "$OUT"/steps/*.json
