# bash completion for kubectl                                  -*- shell-script -*-
#
# Load it with `source <(kubectl completion bash)`. The candidates come from the binary
# itself: `kubectl __complete ARGS… CURRENT` prints one per line (a tab may separate a
# description) and then `:DIRECTIVE`, the bits of which ask for no space after the word (2),
# no file names when nothing matched (4), file names with the given extensions (8) or
# directories only (16), and the order kept (32); bit 1 means an error.

__kubectl_complete()
{
    local line="${COMP_LINE:0:COMP_POINT}"
    local -a words
    read -r -a words <<< "$line"
    if [[ -z $line || $line == *[[:space:]] ]]; then
        words+=("")
    fi
    local cur="${words[${#words[@]}-1]}"
    local out directive
    out=$("${words[0]}" __completeNoDesc "${words[@]:1}" 2>/dev/null)
    directive=${out##*:}
    out=${out%:*}
    if [[ $directive == "$out" || ! $directive =~ ^[0-9]+$ ]]; then
        directive=0
    fi
    COMPREPLY=()
    if (( directive & 1 )); then
        return
    fi
    # A flag's value after `=`: bash completes the part after the `=`.
    if [[ $cur == -*=* ]]; then
        cur="${cur#*=}"
    fi
    local -a comps=()
    local c
    while IFS='' read -r c; do
        [[ -n $c ]] && comps+=("$c")
    done <<< "$out"
    if (( directive & 8 )); then
        local ext pattern=""
        for ext in "${comps[@]}"; do
            pattern+="${pattern:+|}$ext"
        done
        local f extglob_was_off=0
        shopt -q extglob || { extglob_was_off=1; shopt -s extglob; }
        while IFS='' read -r f; do
            [[ -n $f ]] && COMPREPLY+=("$f")
        done < <(compgen -f -X "!*.@($pattern)" -- "$cur"; compgen -d -- "$cur")
        (( extglob_was_off )) && shopt -u extglob
        compopt -o filenames 2>/dev/null
        return
    fi
    if (( directive & 16 )); then
        local d
        while IFS='' read -r d; do
            [[ -n $d ]] && COMPREPLY+=("$d")
        done < <(compgen -d -- "$cur")
        compopt -o filenames 2>/dev/null
        return
    fi
    if (( ${#comps[@]} == 0 )); then
        if (( ! (directive & 4) )); then
            compopt -o default 2>/dev/null
        fi
        return
    fi
    # Bash replaces only the part of the word after the last `:` (COMP_WORDBREAKS).
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon="${cur%"${cur##*:}"}"
        local i
        for i in "${!comps[@]}"; do
            comps[i]=${comps[i]#"$colon"}
        done
    fi
    COMPREPLY=("${comps[@]}")
    if (( directive & 2 )); then
        compopt -o nospace 2>/dev/null
    fi
    if (( directive & 32 )); then
        compopt -o nosort 2>/dev/null
    fi
}

complete -F __kubectl_complete kubectl
