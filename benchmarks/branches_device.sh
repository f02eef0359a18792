#!/usr/bin/env bash
# Table 1 (issue 13) on a lent GPU machine, through the `device` tool:
#
#   run(command="bash benchmarks/branches_device.sh 480 8", carry=[".whl"], timeout_s=560)
#
# Runs SHARDS `faig branches --shard i/SHARDS` processes at once on the one GPU for at most SECONDS
# (a training cut short by the limit's SIGTERM is checkpointed in runs/checkpoints/ and continued by the next call;
# finished ones are kept in runs/, the shards' logs in logs/), then, when every training is there, the unsharded run
# that writes the table and Fig. 1. Packs the folder as $OUT/branches.tgz.part0, part1, ... (15 MiB
# each: the device tool returns files of at most 16 MiB; each training's weights and the checkpoints of
# those in progress can reach ~50 MB together) to unpack here with
#   cat branches.tgz.part* | tar xz -C results/embedded-default/branches
# and commit: the folder is the committed default report's Table 1 (the CPU sessions add to it too), and a
# later call, which gets it with the working tree, trains only what is missing and continues what is unfinished.
set -u
SECONDS_LIMIT=${1:?usage: branches_device.sh SECONDS SHARDS}
SHARDS=${2:?usage: branches_device.sh SECONDS SHARDS}
OUT=${OUT:-runs/device}
FOLDER=results/embedded-default/branches
mkdir -p "$OUT" "$FOLDER/logs"
. benchmarks/device_env.sh
DEVICE=$(python3 -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
for i in $(seq 0 $((SHARDS - 1))); do
  OMP_NUM_THREADS=2 timeout -k 30 -s TERM "$SECONDS_LIMIT" faig branches --device "$DEVICE" --quiet --out "$FOLDER" \
    --shard "$i/$SHARDS" > "$FOLDER/logs/shard$i.log" 2>&1 &
done
wait
read -r found expected < <(python3 -c "from faig.experiments.branches import FULL, kept_trainings, trainings
print(kept_trainings('$FOLDER', FULL), len(trainings(FULL)))")
echo "$found of $expected trainings kept"
if [ "$found" -ge "$expected" ]; then  # reads the kept runs only; the timeout keeps the packing below safe
  timeout -k 10 -s TERM 120 faig branches --device "$DEVICE" --quiet --out "$FOLDER" | tee "$OUT/table.txt"
fi
tar czf /tmp/branches.tgz -C "$FOLDER" .
split -b 15M -d -a 1 /tmp/branches.tgz "$OUT/branches.tgz.part"
tail -n 2 "$FOLDER"/logs/shard*.log
