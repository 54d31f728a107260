# powershell completion for kubectl. Load it with
#   kubectl completion powershell | Out-String | Invoke-Expression
# The candidates come from the binary itself: `kubectl __complete ARGS… CURRENT` prints
# `name<TAB>description` lines and then `:DIRECTIVE` (1 error, 2 no space, 4 no file names,
# 8 file extensions, 16 directories only, 32 keep the order).

Register-ArgumentCompleter -CommandName 'kubectl' -ScriptBlock {
    param($WordToComplete, $CommandAst, $CursorPosition)

    $Line = $CommandAst.Extent.ToString()
    $Offset = $CursorPosition - $CommandAst.Extent.StartOffset
    if ($Offset -lt $Line.Length) { $Line = $Line.Substring(0, $Offset) }
    $Words = @($Line -split '\s+' | Where-Object { $_ -ne '' })
    $Program = $Words[0]
    $CompArgs = @()
    if ($Words.Count -gt 1) { $CompArgs = $Words[1..($Words.Count - 1)] }
    if ($Line -match '\s$' -or $Words.Count -eq 1) { $CompArgs += '' }
    $Current = $CompArgs[-1]

    # An empty argument must reach the program whatever the argument passing mode.
    $Quoted = $CompArgs | ForEach-Object { "'" + ($_ -replace "'", "''") + "'" }
    $Out = @(Invoke-Expression "& '$Program' __complete $($Quoted -join ' ') 2>`$null")
    $Directive = 0
    if ($Out.Count -gt 0 -and $Out[-1] -match '^:(\d+)$') {
        $Directive = [int]$Matches[1]
        $Out = @($Out | Select-Object -SkipLast 1)
    }
    if ($Directive -band 1) { return }
    if (($Directive -band 8) -or ($Directive -band 16)) { return }
    $Prefix = ''
    if ($Current -match '^(-.*=)') { $Prefix = $Matches[1] }
    $Results = foreach ($Item in $Out) {
        if (-not $Item) { continue }
        $Name, $Desc = $Item -split "`t", 2
        if (-not $Desc) { $Desc = $Name }
        $Text = $Prefix + $Name
        if (-not ($Directive -band 2)) { $Text = $Text + ' ' }
        [System.Management.Automation.CompletionResult]::new($Text, $Name, 'ParameterValue', $Desc)
    }
    if ($Results) { return $Results }
    if (-not ($Directive -band 4)) { return $null }
    return ''
}
