#compdef kubectl
compdef _kubectl kubectl

# zsh completion for kubectl. Load it with `source <(kubectl completion zsh)`, or save it as
# `_kubectl` in a directory of $fpath. The candidates come from the binary itself:
# `kubectl __complete ARGS… CURRENT` prints `name<TAB>description` lines and then
# `:DIRECTIVE` (1 error, 2 no space, 4 no file names, 8 file extensions, 16 directories only,
# 32 keep the order).

_kubectl()
{
    local cur="${words[CURRENT]}"
    local -a args lines comps opts
    args=("${(@)words[2,CURRENT-1]}")
    local out
    out=$("${words[1]}" __complete "${args[@]}" "$cur" 2>/dev/null)
    lines=("${(@f)out}")
    local directive=0
    if [[ ${lines[-1]} == :<-> ]]; then
        directive=${lines[-1]#:}
        lines=("${(@)lines[1,-2]}")
    fi
    (( directive & 1 )) && return 1
    if (( directive & 8 )); then
        local -a exts
        local e
        for e in $lines; do
            [[ -n $e ]] && exts+=("$e")
        done
        _files -g "*.(${(j:|:)exts})"
        return
    fi
    if (( directive & 16 )); then
        _files -/
        return
    fi
    # `--flag=value`: match the value only.
    if [[ $cur == -*=* ]]; then
        compset -P '*='
    fi
    local line name desc
    for line in $lines; do
        [[ -z $line ]] && continue
        name=${line%%$'\t'*}
        desc=""
        [[ $line == *$'\t'* ]] && desc=${line#*$'\t'}
        name=${name//:/\\:}
        if [[ -n $desc ]]; then
            comps+=("$name:$desc")
        else
            comps+=("$name")
        fi
    done
    if (( ${#comps} == 0 )); then
        (( directive & 4 )) && return 1
        _files
        return
    fi
    (( directive & 2 )) && opts+=(-S '')
    if (( directive & 32 )); then
        _describe -V -t kubectl 'kubectl' comps $opts
    else
        _describe -t kubectl 'kubectl' comps $opts
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _kubectl "$@"
fi
