#!/usr/bin/env bash
# Fails if any file under src/<layer>/ includes a header of a layer it may not depend on.
# The allowed map is the architecture in DEVELOPERS.md: dependencies only point downward.
set -u
src=${1:?usage: layering_test.sh SRC_DIR}
declare -A allowed=(
  [base]="base"
  [tensor]="base tensor"
  [gguf]="base tensor gguf"
  [kernels]="base tensor kernels"
  [model]="base tensor gguf kernels model"
  [tokenizer]="base tensor gguf tokenizer"
  [sampling]="base sampling"
  [templates]="base templates"
  [parsers]="base parsers"
  [store]="base tensor gguf templates store"
  [engine]="base tensor gguf kernels model tokenizer sampling templates engine"
  [registry]="base tensor gguf templates store registry"
  [scheduler]="base tensor gguf kernels model tokenizer sampling templates engine store scheduler"
  [server]="base tensor gguf kernels model tokenizer sampling templates parsers engine store registry scheduler server"
  [cli]="base tensor gguf kernels model tokenizer sampling templates parsers engine store registry scheduler server cli"
)
status=0
for dir in "$src"/*/; do
  layer=$(basename "$dir")
  ok=${allowed[$layer]:-}
  if [ -z "$ok" ]; then
    echo "layering: src/$layer is not a known layer (add it to tests/layering_test.sh and DEVELOPERS.md)"
    status=1
    continue
  fi
  while IFS= read -r hit; do
    file=${hit%%:*}
    inc=$(sed -E 's/.*#include "([^/"]+)\/.*/\1/' <<<"${hit#*:}")
    [[ " $ok " == *" $inc "* ]] && continue
    [ -d "$src/$inc" ] || continue  # not a layer folder (e.g. a local header)
    echo "layering: ${file#$src/} includes $inc/ but $layer may only use: $ok"
    status=1
  done < <(grep -rHE '^\s*#\s*include\s+"[^/"]+/' "$dir" --include='*.h' --include='*.cc')
done
[ $status -eq 0 ] && echo "layering: ok"
exit $status
