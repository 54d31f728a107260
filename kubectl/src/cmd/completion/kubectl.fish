# fish completion for kubectl. Load it with `kubectl completion fish | source`, or save it
# as ~/.config/fish/completions/kubectl.fish. The candidates come from the binary itself:
# `kubectl __complete ARGS… CURRENT` prints `name<TAB>description` lines and then
# `:DIRECTIVE` (1 error, 2 no space, 4 no file names, 8 file extensions, 16 directories only,
# 32 keep the order).

function __kubectl_complete
    set -l args (commandline -opc)
    set -l cur (commandline -ct)
    set -l out (command $args[1] __complete $args[2..-1] $cur 2>/dev/null)
    set -l directive 0
    if test (count $out) -gt 0; and string match -qr '^:[0-9]+$' -- $out[-1]
        set directive (string sub -s 2 -- $out[-1])
        set -e out[-1]
    end
    if test (math "bitand($directive, 1)") -ne 0
        return
    end
    if test (math "bitand($directive, 8)") -ne 0
        for f in (__fish_complete_path $cur)
            set -l name (string split -f1 \t -- $f)
            if string match -q -- '*/' $name
                echo $name
                continue
            end
            for ext in $out
                if string match -q -- "*.$ext" $name
                    echo $name
                    break
                end
            end
        end
        return
    end
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories $cur
        return
    end
    # `--flag=value`: fish completes the whole token.
    set -l prefix ""
    if string match -qr -- '^-.*=' $cur
        set prefix (string replace -r -- '=.*' '=' $cur)
    end
    set -l comps
    for c in $out
        test -n "$c"; and set -a comps "$prefix$c"
    end
    if test (count $comps) -eq 0
        if test (math "bitand($directive, 4)") -eq 0
            __fish_complete_path $cur
        end
        return
    end
    printf '%s\n' $comps
end

complete -c kubectl -e
complete -c kubectl -f -a '(__kubectl_complete)'
