#!/usr/bin/env bash
# Run here, before GPU work through the device tool: the device machine has nvcc, CMake, ninja
# and PyTorch but none of Debian's packages, and takes at most 64 MiB of working tree.
#
#   bash scripts/gpu_prepare.sh           # .gpu/ gets the .debs and the corpus; big files stay here
#   bash scripts/gpu_prepare.sh restore   # before committing: the big files go back in the index
#
# Then every `run` names .gpu in `carry` and starts with `bash scripts/gpu_build.sh` (which
# unpacks the .debs into a prefix and builds the engine alone, CUDA on). docs/gpu.md has the
# whole procedure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tracked files too large to travel: the shipped models' weights (the GPU work runs random
# checkpoints, the fixtures' tiny models, or trains its own).
big_files=(engine/models/agentd-default/model.safetensors engine/models/agentd-embed/model.safetensors)
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
touch "$exclude"

if [[ "${1:-}" == restore ]]; then
  git reset -q -- "${big_files[@]}"
  sed -i '/^# begin gpu_prepare.sh$/,/^# end gpu_prepare.sh$/d' "$exclude"
  echo "gpu_prepare: ${#big_files[@]} files are tracked again"
  exit 0
fi

# The engine's libraries (cmake/Dependencies.cmake, AGENTD_ENGINE_ONLY), as Debian 12 packages.
packages=(libabsl-dev libabsl20220623 nlohmann-json3-dev libcli11-dev libonig-dev libonig5
          libutf8proc-dev libutf8proc2 libgtest-dev libgmock-dev)
mkdir -p .gpu/debs
grep -qx '/.gpu/' "$exclude" || echo '/.gpu/' >> "$exclude"
(cd .gpu/debs && apt-get download "${packages[@]}" 2>/dev/null)

# The training corpus (engine/train/build_corpus.py needs Debian's documentation packages,
# which the device machine lacks).
if [[ -f var/train/corpus/text.jsonl ]]; then
  mkdir -p .gpu/corpus
  for f in text.jsonl tasks.jsonl; do gzip -9c "var/train/corpus/$f" > ".gpu/corpus/$f.gz"; done
fi

# Untracked and ignored, they stay on disk here and do not travel.
if ! grep -qx '# begin gpu_prepare.sh' "$exclude"; then
  { echo '# begin gpu_prepare.sh'; printf '/%s\n' "${big_files[@]}"; echo '# end gpu_prepare.sh'; } >> "$exclude"
fi
for f in "${big_files[@]}"; do
  if git ls-files --error-unmatch "$f" > /dev/null 2>&1; then git rm -q --cached "$f"; fi
done

travelling=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
carried=$(du -sb .gpu | cut -f1)
echo "gpu_prepare: working tree $((travelling / 1048576)) MiB + .gpu $((carried / 1048576)) MiB (limit 64 MiB)"
