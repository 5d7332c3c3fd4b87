#!/usr/bin/env bash
# End-to-end demo on generated data, in a throw-away Git repository:
# init, track, commit, change the data, status, go back to the old version, and forward again.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dvs() { node "$here/bin/dvs.js" "$@"; }
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/dvs-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
git init -q -b main
echo "print('train')" > train.py
git add train.py && git commit -qm "code"

# Generated data: 3 partitions of a small text dataset and a model file.
mkdir -p data/train
for part in 0 1 2; do
  { echo "id,domain,score"; for i in $(seq 1 200); do echo "$((part * 200 + i)),$([ $((i % 4)) = 0 ] && echo math || echo web),$((i % 97))"; done; } > "data/train/part-$part.csv"
done
head -c 300000 /dev/urandom > model.bin

step dvs init;                       dvs init
step dvs track data/train model.bin; dvs track data/train model.bin
step 'git commit -m "data v1"';      git commit -qm "data v1" && git log --oneline | head -1
step cat data/train.dvs;             cat data/train.dvs

# Change the data: drop the math rows of one partition, add a partition.
grep -v ',math,' data/train/part-1.csv > data/train/tmp && mv data/train/tmp data/train/part-1.csv
cp data/train/part-0.csv data/train/part-3.csv
step dvs status --granular;          dvs status --granular
step dvs track data/train;           dvs track data/train
step 'git commit -m "data v2"';      git commit -qm "data v2" && git log --oneline | head -1

step 'git checkout HEAD~1 -- data/train.dvs && dvs checkout data/train   # the pointer of one commit ago, and its data'
git checkout -q HEAD~1 -- data/train.dvs
dvs checkout data/train
step 'wc -l data/train/*.csv   # version 1 again';  wc -l data/train/*.csv
step 'git checkout HEAD -- data/train.dvs && dvs checkout data/train'
git checkout -q HEAD -- data/train.dvs
dvs checkout data/train
step dvs status;                     dvs status
step dvs verify;                     dvs verify
printf '\nDemo finished in %s (removed on exit).\n' "$work"
