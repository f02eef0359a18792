#!/usr/bin/env bash
# Paper-regime training (issue 10) on a lent GPU machine, through the `device` tool:
#
#   run(command="bash benchmarks/paper_regime_device.sh 460 srcnn_style_r5 srresnet_jpeg_r3", carry=[".whl"],
#       timeout_s=560)
#
# Trains the candidates of benchmarks/paper_regime.py named (at most 3: 8 files come back) at once,
# each resuming from its committed checkpoint, for at most SECONDS; then SIGTERM makes `faig train`
# save its checkpoint (it never loses work), and each candidate's files are packed as
# $OUT/<candidate>.tgz to unpack into benchmarks/paper_regime/<candidate>/ here. The machine's python3
# has torch but not this package's scikit-image version (the embedded photos come from it), so that
# wheel travels in .whl/.
set -u
SECONDS_LIMIT=${1:?usage: paper_regime_device.sh SECONDS CANDIDATE [CANDIDATE [CANDIDATE]]}
shift
CANDIDATES=${*:?name the candidates to train (at most 3)}
OUT=${OUT:-runs/device}
mkdir -p "$OUT"
. benchmarks/device_env.sh
python3 - <<'EOF' | tee "$OUT/environment.txt"
import hashlib, torch, skimage
from faig.data.splits import load_images
digest = hashlib.sha256(b"".join(i.hr.numpy().tobytes() for i in load_images("train", None, 2))).hexdigest()
print("torch", torch.__version__, "skimage", skimage.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else "", "train split sha256", digest[:16])
EOF
DEVICE=$(python3 -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
for name in $CANDIDATES; do
  OMP_NUM_THREADS=4 timeout -k 30 -s TERM "$SECONDS_LIMIT" python3 benchmarks/paper_regime.py train "$name" --device "$DEVICE" \
    > "$OUT/$name.log" 2>&1 &
done
wait
while pgrep -f "faig.cli import main" > /dev/null; do sleep 1; done
for name in $CANDIDATES; do
  folder=benchmarks/paper_regime/$name
  # A finished stage's checkpoint is not needed any more: leave it out, to stay under 16 MB a file.
  files=$(cd "$folder" && for stage in baseline target; do
    # <arch>_<stage> and, for a wider mix's target, <arch>_target_<kinds>
    ls ./*_"$stage"*.json ./*_"$stage"*.safetensors 2> /dev/null
    ls ./*_"$stage"*.safetensors > /dev/null 2>&1 || ls checkpoints/*_"$stage"*.pt 2> /dev/null
  done)
  [ -n "$files" ] && tar czf "$OUT/$name.tgz" -C "$folder" $files
  tail -n 3 "$OUT/$name.log"
done
ls -la "$OUT"
