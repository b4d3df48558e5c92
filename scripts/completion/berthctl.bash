# bash completion for berthctl                                   -*- shell-script -*-
#
# Installed by `cmake --install` as <prefix>/share/bash-completion/completions/berthctl, where
# bash-completion finds it; or load it by hand: `source scripts/completion/berthctl.bash`.
#
# Completes berthctl's global options (which go before the command, as berthctl parses them),
# its commands and their options, files for `import` and `runp`, and image names and pod IDs from
# the berthd the command line points at (asked with a 2-second timeout; nothing when it does not
# answer).

# The global options given so far on the command line that select the endpoint and timeout, so
# lookups ask the same berthd.
_berthctl_globals() {
  local i word
  _berthctl_args=()
  for ((i = 1; i < cword; i++)); do
    word=${words[i]}
    case $word in
      -r | --endpoint) _berthctl_args+=(--endpoint "${words[i + 1]}"); i=$((i + 1)) ;;
      --endpoint=*) _berthctl_args+=("$word") ;;
      -r?*) _berthctl_args+=(--endpoint "${word#-r}") ;;
      -t | --timeout | -o | --output | --tls-ca-file) i=$((i + 1)) ;;
      -*) ;;
      *) break ;;
    esac
  done
}

# Image names (NAME:TAG) and IDs, and pod IDs, from berthd; words[0] is the berthctl being run.
_berthctl_images() {
  local _berthctl_args ctl=${words[0]/#\~/$HOME}
  _berthctl_globals
  "$ctl" "${_berthctl_args[@]}" --timeout 2 images 2>/dev/null |
    awk 'NR > 1 && $2 != "<none>" { print $1 ":" $2 } NR > 1 && $2 == "<none>" && $1 != "<none>" { print $1 }'
  "$ctl" "${_berthctl_args[@]}" --timeout 2 images -q 2>/dev/null
}

_berthctl_pods() {
  local _berthctl_args ctl=${words[0]/#\~/$HOME}
  _berthctl_globals
  "$ctl" "${_berthctl_args[@]}" --timeout 2 pods -q 2>/dev/null
}

_berthctl_containers() {
  local _berthctl_args ctl=${words[0]/#\~/$HOME}
  _berthctl_globals
  "$ctl" "${_berthctl_args[@]}" --timeout 2 ps -a -q 2>/dev/null
}

# COMPREPLY from a word list, one candidate per line.
_berthctl_reply() {
  mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

# Drops, from every reply, what readline keeps before the last ':' of the current word
# (COMP_WORDBREAKS has ':', so readline replaces only the part after it): image references and
# IDs (name:tag, sha256:...) and unix:// endpoints complete whole.
_berthctl_ltrim_colon() {
  [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]] || return 0
  local prefix=${cur%"${cur##*:}"} i
  for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}; done
}

_berthctl() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null 2>&1; then
    # -n : keeps "name:tag" and "unix:///path" one word; -s splits --output=json.
    # shellcheck disable=SC2034  # split is set by _init_completion -s
    local split
    _init_completion -s -n : || return
  else
    # Without bash-completion: words from the line up to the cursor, split on blanks only.
    local line=${COMP_LINE:0:COMP_POINT}
    read -r -a words <<<"$line"
    [[ -z $line || $line =~ [[:space:]]$ ]] && words+=("")
    cword=$((${#words[@]} - 1))
    cur=${words[cword]}
    prev=${words[cword - 1]}
    if [[ $cur == --*=* ]]; then
      prev=${cur%%=*}
      cur=${cur#*=}
    fi
    COMPREPLY=()
  fi

  local commands="version status info pull images img rmi inspecti import runp pods inspectp stopp rmp create start stop rm ps inspect logs exec attach port-forward run stats statsp events"
  local globals="--endpoint -r --timeout -t --output -o --tls-ca-file --insecure-skip-tls-verify --help -h"

  # The command: the first word after the global options (and their values).
  local i command="" command_at=0
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      -r | --endpoint | -t | --timeout | -o | --output | --tls-ca-file) i=$((i + 1)) ;;
      -*) ;;
      *) command=${words[i]}; command_at=$i; break ;;
    esac
  done

  if [[ -z $command ]]; then
    case $prev in
      -o | --output)
        _berthctl_reply "table json"
        return ;;
      -t | --timeout)
        return ;;
      --tls-ca-file)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return ;;
      -r | --endpoint)
        if [[ $cur == unix://* ]]; then
          local path=${cur#unix://}
          mapfile -t COMPREPLY < <(compgen -f -P unix:// -- "$path")
          compopt -o nospace 2>/dev/null
        else
          _berthctl_reply "unix:///run/berth/berth.sock unix://"
          [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == unix:// ]] && compopt -o nospace 2>/dev/null
        fi
        _berthctl_ltrim_colon
        return ;;
    esac
    if [[ $cur == -* ]]; then
      _berthctl_reply "$globals"
    else
      _berthctl_reply "$commands"
    fi
    return
  fi

  # Options of the command, and what its arguments are.
  local options="--help -h"
  case $command in
    pull)
      options+=" --creds --auth"
      case $prev in --creds | --auth) return ;; esac ;;
    images | img) options+=" --quiet -q" ;;
    import)
      options+=" --name"
      [[ $prev == --name ]] && return ;;
    runp)
      options+=" --runtime"
      [[ $prev == --runtime ]] && return ;;
    run)
      options+=" --runtime --no-pull --with-pull --creds --auth"
      case $prev in --runtime | --creds | --auth) return ;; esac ;;
    stats | statsp)
      options+=" --id --label -l --seconds -s"
      [[ $command == stats ]] && options+=" --pod -p --all -a"
      case $prev in
        --label | -l | --seconds | -s) return ;;
        --pod | -p) _berthctl_reply "$(_berthctl_pods)"; return ;;
        --id)
          if [[ $command == stats ]]; then _berthctl_reply "$(_berthctl_containers)"; else _berthctl_reply "$(_berthctl_pods)"; fi
          return ;;
      esac ;;
    pods) options+=" --quiet -q" ;;
    ps)
      options+=" --all -a --quiet -q --pod -p"
      [[ $prev == --pod || $prev == -p ]] && { _berthctl_reply "$(_berthctl_pods)"; return; } ;;
    stop)
      options+=" --timeout -T"
      [[ $prev == --timeout || $prev == -T ]] && return ;;
    logs) options+=" --follow -f" ;;
    exec | attach)
      options+=" --stdin -i --tty -t --transport"
      [[ $command == exec ]] && options+=" --sync -s --timeout"
      case $prev in
        --transport) _berthctl_reply "spdy websocket"; return ;;
        --timeout) return ;;
      esac ;;
    port-forward)
      options+=" --transport"
      [[ $prev == --transport ]] && { _berthctl_reply "spdy websocket"; return; } ;;
  esac
  if [[ $cur == -* ]]; then
    _berthctl_reply "$options"
    return
  fi

  # Positional arguments given so far (after the command).
  local positionals=0
  for ((i = command_at + 1; i < cword; i++)); do
    case ${words[i]} in
      --creds | --auth | --name | --runtime | --pod | -p | --timeout | -T | --id | --label | -l | --seconds | --transport) i=$((i + 1)) ;;
      -s) [[ $command == exec ]] || i=$((i + 1)) ;;  # exec's -s is --sync, a flag
      -*) ;;
      *) positionals=$((positionals + 1)) ;;
    esac
  done

  case $command in
    rmi)
      _berthctl_reply "$(_berthctl_images)" ;;
    images | img | inspecti)
      ((positionals == 0)) && _berthctl_reply "$(_berthctl_images)" ;;
    inspectp)
      ((positionals == 0)) && _berthctl_reply "$(_berthctl_pods)" ;;
    stopp | rmp)
      _berthctl_reply "$(_berthctl_pods)" ;;
    start | stop | rm)
      _berthctl_reply "$(_berthctl_containers)" ;;
    inspect | logs | stats | exec | attach)
      # exec: the container, then the command (nothing offered)
      ((positionals == 0)) && _berthctl_reply "$(_berthctl_containers)" ;;
    port-forward)
      ((positionals == 0)) && _berthctl_reply "$(_berthctl_pods)" ;;
    statsp)
      ((positionals == 0)) && _berthctl_reply "$(_berthctl_pods)" ;;
    create)
      if ((positionals == 0)); then
        _berthctl_reply "$(_berthctl_pods)"
      elif ((positionals == 1)); then
        if declare -F _filedir >/dev/null 2>&1; then
          _filedir '@(json|yaml|yml)'
        else
          mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
      fi ;;
    import)
      if ((positionals == 0)); then
        if declare -F _filedir >/dev/null 2>&1; then _filedir; else mapfile -t COMPREPLY < <(compgen -f -- "$cur"); fi
      fi ;;
    runp | run)
      # runp POD.yaml; run CTR.yaml POD.yaml
      local files=1
      [[ $command == run ]] && files=2
      if ((positionals < files)); then
        if declare -F _filedir >/dev/null 2>&1; then
          _filedir '@(json|yaml|yml)'
        else
          mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
      fi ;;
  esac
  _berthctl_ltrim_colon
  return 0
}

complete -F _berthctl berthctl
