#!/usr/bin/env bash
# Fails if any file under src/ includes a header of a layer it may not depend on, or if a library
# or executable built from src/ links a corral library of such a layer. The allowed map is the
# architecture in DEVELOPERS.md: dependencies only point downward.
#
# A layer is a folder of src/ (server/ollama, kernels/x86/avx2, ...), named by its path; a file's
# layer is the folder it sits in, and an include's layer is the folder of the header it names.
# One file pair is a layer of its own: src/server/app.{h,cc} (server/app) composes every server
# folder on top of the code they share in src/server/ (server).
set -u
src=${1:?usage: layering_test.sh SRC_DIR}
src=${src%/}
below_engine="base tensor gguf kernels model tokenizer sampling templates parsers"
below_server="$below_engine engine store registry scheduler"
server_core="$below_server server/http server"
server_all="$server_core server/access server/ollama server/openai server/anthropic server/manage server/registry"
declare -A allowed=(
  [base]="base"
  [tensor]="base tensor"
  [gguf]="base tensor gguf"
  # kernels/: the API (api.h, registry.h) and the dispatch over ISA folders. Each ISA folder sees
  # the API, the generic code's shared headers and, for x86, the x86 folder's shared headers;
  # never another ISA folder.
  [kernels]="base tensor kernels"
  [kernels/generic]="base tensor kernels kernels/generic"
  [kernels/x86]="base tensor kernels kernels/generic kernels/x86"
  [kernels/x86/avx2]="base tensor kernels kernels/generic kernels/x86 kernels/x86/avx2"
  [kernels/x86/avx512]="base tensor kernels kernels/generic kernels/x86 kernels/x86/avx512"
  [model]="base tensor gguf kernels model"
  [tokenizer]="base tensor gguf tokenizer"
  [sampling]="base sampling"
  [templates]="base templates"
  [parsers]="base parsers"
  [store]="base tensor gguf templates store"
  [engine]="$below_engine engine"
  [registry]="base tensor gguf templates store registry"
  [scheduler]="$below_engine engine store scheduler"
  # The synthetic GGUF writer and other tools for benchmarks and tests.
  [tools]="base tensor gguf kernels tools"
  [server/http]="base server/http"
  [server]="$server_core"
  [server/access]="$server_core server/access"
  [server/ollama]="$server_core server/ollama"
  [server/openai]="$server_core server/openai"
  [server/anthropic]="$server_core server/anthropic"
  [server/manage]="$server_core server/manage"
  [server/registry]="$server_core server/registry"
  [server/app]="$server_all server/app"
  # The load generator and tuner drive a server over HTTP; they share its OLLAMA_HOST parsing
  # (server/ollama/host.h) and its scheduler settings (scheduler/config.h).
  [loadtest]="$below_server server/http server/ollama loadtest"
  [cli]="$server_all server/app tools loadtest cli"
)

# layer_of PATH (relative to src/, a file): sets `layer_name` to its layer (no subshell: this
# runs for every include line).
layer_of() {
  case $1 in
    server/app.*) layer_name=server/app ;;
    */*) layer_name=${1%/*} ;;
    *) layer_name="" ;;
  esac
}

status=0
fail() {
  echo "layering: $*"
  status=1
}

# 1. Every folder holding code is a known layer.
while IFS= read -r dir; do
  layer=${dir#"$src"/}
  [ -n "${allowed[$layer]:-}" ] || fail "src/$layer is not a known layer (add it to tests/layering_test.sh and DEVELOPERS.md)"
done < <(find "$src" -mindepth 1 -type f \( -name '*.h' -o -name '*.cc' \) -printf '%h\n' | sort -u)

# 2. Includes: the included header's folder must be a layer the file's layer may use.
while IFS= read -r hit; do
  file=${hit%%:*}
  rel=${file#"$src"/}
  layer_of "$rel"
  layer=$layer_name
  ok=${allowed[$layer]:-}
  [ -n "$ok" ] || continue  # reported above
  [[ ${hit#*:} =~ \"([^\"]+)\" ]] || continue
  inc=${BASH_REMATCH[1]}
  [ -e "$src/$inc" ] || [ -d "$src/${inc%/*}" ] || continue  # not a src/ header (a test's, a local one)
  layer_of "$inc"
  target=$layer_name
  [[ " $ok " == *" $target "* ]] && continue
  fail "src/$rel includes $inc (layer $target) but $layer may only use: $ok"
done < <(grep -rHE '^\s*#\s*include\s+"[^"]+/[^"]+"' "$src" --include='*.h' --include='*.cc')

# 3. The CMake link graph: each corral library or executable built in src/ may link only corral
# libraries of layers its own layer may use. Libraries come from corral_library(NAME DIR dir
# [FILES f...] ...) and add_library(NAME ...) in src/<dir>/CMakeLists.txt; an executable's layer
# is the folder of its sources (a ${var} set by file(GLOB var ... dir/*.cc)).
declare -A lib_layer=() glob_dir=()
links=()  # "target dep" pairs
while IFS= read -r cmake; do
  here=${cmake#"$src"}
  here=${here%/CMakeLists.txt}
  here=${here#/}
  # One command per line: drop comments, join lines, split after each ')'.
  while IFS= read -r cmd; do
    name=${cmd%%(*}
    name=${name//[[:space:]]/}
    read -ra args <<<"${cmd#*(}"
    [ ${#args[@]} -gt 0 ] || continue
    target=${args[0]}
    case $name in
      corral_library)
        dir="" files="" mode=""
        for a in "${args[@]:1}"; do
          case $a in
            DIR | FILES | EXCLUDE | DEPS) mode=$a ;;
            *) case $mode in
                 DIR) dir=$a ;;
                 FILES) [ -n "$files" ] || files=$a ;;
                 DEPS) links+=("$target $a") ;;
               esac ;;
          esac
        done
        if [ -n "$files" ]; then layer_of "$dir/$files"; lib_layer[$target]=$layer_name; else lib_layer[$target]=$dir; fi
        ;;
      add_library) lib_layer[$target]=${here:-?} ;;
      file)
        [ "${args[0]}" = GLOB ] || [ "${args[0]}" = GLOB_RECURSE ] || continue
        for a in "${args[@]:2}"; do [[ $a == */* ]] && glob_dir[${args[1]}]=${a%/*}; done
        ;;
      add_executable)
        first=${args[1]:-}
        if [[ $first == '${'*'}' ]]; then first=${first#\$\{}; first=${first%\}}; lib_layer[$target]=${glob_dir[$first]:-?}
        else layer_of "${here:+$here/}$first"; lib_layer[$target]=$layer_name; fi
        ;;
      target_link_libraries)
        for a in "${args[@]:1}"; do links+=("$target $a"); done
        ;;
    esac
  done < <(sed 's/#.*//' "$cmake" | tr '\n' ' ' | tr ')' '\n')
done < <(find "$src" -name CMakeLists.txt | sort)

for pair in "${links[@]}"; do
  target=${pair% *}
  dep=${pair#* }
  [[ $dep == corral_* ]] || continue
  layer=${lib_layer[$target]:-}
  dep_layer=${lib_layer[$dep]:-}
  if [ -z "$layer" ] || [ -z "$dep_layer" ]; then
    fail "CMake: cannot tell the layer of ${layer:+$dep}${layer:-$target} (links $dep)"
    continue
  fi
  ok=${allowed[$layer]:-}
  [[ " $ok " == *" $dep_layer "* ]] && continue
  fail "CMake: $target ($layer) links $dep ($dep_layer) but $layer may only use: $ok"
done
[ ${#lib_layer[@]} -gt 0 ] || fail "CMake: found no corral libraries under $src"

[ $status -eq 0 ] && echo "layering: ok"
exit $status
