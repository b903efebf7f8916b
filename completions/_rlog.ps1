
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'rlog' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'rlog'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'rlog' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level')
            [CompletionResult]::new('--level', '--level', [CompletionResultType]::ParameterName, 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level')
            [CompletionResult]::new('--min-level', '--min-level', [CompletionResultType]::ParameterName, 'Drop lines below this level (a level name, as for --level)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Value of %{tag}, any text (like logger -t)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Value of %{tag}, any text (like logger -t)')
            [CompletionResult]::new('--define-level', '--define-level', [CompletionResultType]::ParameterName, 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour console output')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'After SIGTERM/SIGINT, keep reading this long for the producer''s last lines (e.g. 2s, 500ms)')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none')
            [CompletionResult]::new('--retry-for', '--retry-for', [CompletionResultType]::ParameterName, 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted')
            [CompletionResult]::new('--max-line', '--max-line', [CompletionResultType]::ParameterName, 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records')
            [CompletionResult]::new('--rotate-size', '--rotate-size', [CompletionResultType]::ParameterName, 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>')
            [CompletionResult]::new('--rotate-keep', '--rotate-keep', [CompletionResultType]::ParameterName, 'Archives kept per file after rotation (0 keeps none); the oldest go first')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Permissions of new log files, in octal (the umask still applies); new directories get 750')
            [CompletionResult]::new('--syslog', '--syslog', [CompletionResultType]::ParameterName, 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp')
            [CompletionResult]::new('--facility', '--facility', [CompletionResultType]::ParameterName, 'Syslog facility of forwarded lines')
            [CompletionResult]::new('--syslog-format', '--syslog-format', [CompletionResultType]::ParameterName, 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write one JSON object per line; the pattern (--format) is then not used')
            [CompletionResult]::new('--parse-level', '--parse-level', [CompletionResultType]::ParameterName, 'Take each line''s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it')
            [CompletionResult]::new('--console', '--console', [CompletionResultType]::ParameterName, 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level')
            [CompletionResult]::new('--escape', '--escape', [CompletionResultType]::ParameterName, 'Escape control bytes in files too (\x1b, \r...), for logs read by trusting tools')
            [CompletionResult]::new('--rotate-compress', '--rotate-compress', [CompletionResultType]::ParameterName, 'Gzip archives in the background (PATH.<time>.gz)')
            [CompletionResult]::new('--no-sync', '--no-sync', [CompletionResultType]::ParameterName, 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('write', 'write', [CompletionResultType]::ParameterValue, 'Log one message (arguments joined by one space); each of its lines becomes a record')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run COMMAND, logging its stdout and stderr line by line; exit with its status')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rlog;write' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level')
            [CompletionResult]::new('--level', '--level', [CompletionResultType]::ParameterName, 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level')
            [CompletionResult]::new('--min-level', '--min-level', [CompletionResultType]::ParameterName, 'Drop lines below this level (a level name, as for --level)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Value of %{tag}, any text (like logger -t)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Value of %{tag}, any text (like logger -t)')
            [CompletionResult]::new('--define-level', '--define-level', [CompletionResultType]::ParameterName, 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour console output')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'After SIGTERM/SIGINT, keep reading this long for the producer''s last lines (e.g. 2s, 500ms)')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none')
            [CompletionResult]::new('--retry-for', '--retry-for', [CompletionResultType]::ParameterName, 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted')
            [CompletionResult]::new('--max-line', '--max-line', [CompletionResultType]::ParameterName, 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records')
            [CompletionResult]::new('--rotate-size', '--rotate-size', [CompletionResultType]::ParameterName, 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>')
            [CompletionResult]::new('--rotate-keep', '--rotate-keep', [CompletionResultType]::ParameterName, 'Archives kept per file after rotation (0 keeps none); the oldest go first')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Permissions of new log files, in octal (the umask still applies); new directories get 750')
            [CompletionResult]::new('--syslog', '--syslog', [CompletionResultType]::ParameterName, 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp')
            [CompletionResult]::new('--facility', '--facility', [CompletionResultType]::ParameterName, 'Syslog facility of forwarded lines')
            [CompletionResult]::new('--syslog-format', '--syslog-format', [CompletionResultType]::ParameterName, 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write one JSON object per line; the pattern (--format) is then not used')
            [CompletionResult]::new('--parse-level', '--parse-level', [CompletionResultType]::ParameterName, 'Take each line''s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it')
            [CompletionResult]::new('--console', '--console', [CompletionResultType]::ParameterName, 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level')
            [CompletionResult]::new('--escape', '--escape', [CompletionResultType]::ParameterName, 'Escape control bytes in files too (\x1b, \r...), for logs read by trusting tools')
            [CompletionResult]::new('--rotate-compress', '--rotate-compress', [CompletionResultType]::ParameterName, 'Gzip archives in the background (PATH.<time>.gz)')
            [CompletionResult]::new('--no-sync', '--no-sync', [CompletionResultType]::ParameterName, 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'rlog;run' {
            [CompletionResult]::new('--stderr-level', '--stderr-level', [CompletionResultType]::ParameterName, 'Level of the command''s stderr lines (stdout lines get --level)')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'SIGKILL a COMMAND still running this long after a forwarded signal (default for --time-limit: 10s), e.g. 30s')
            [CompletionResult]::new('--time-limit', '--time-limit', [CompletionResultType]::ParameterName, 'SIGTERM COMMAND when it has run this long (e.g. 2h, 90s); exit 124')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level')
            [CompletionResult]::new('--level', '--level', [CompletionResultType]::ParameterName, 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level')
            [CompletionResult]::new('--min-level', '--min-level', [CompletionResultType]::ParameterName, 'Drop lines below this level (a level name, as for --level)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Value of %{tag}, any text (like logger -t)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Value of %{tag}, any text (like logger -t)')
            [CompletionResult]::new('--define-level', '--define-level', [CompletionResultType]::ParameterName, 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour console output')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'After SIGTERM/SIGINT, keep reading this long for the producer''s last lines (e.g. 2s, 500ms)')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none')
            [CompletionResult]::new('--retry-for', '--retry-for', [CompletionResultType]::ParameterName, 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted')
            [CompletionResult]::new('--max-line', '--max-line', [CompletionResultType]::ParameterName, 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records')
            [CompletionResult]::new('--rotate-size', '--rotate-size', [CompletionResultType]::ParameterName, 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>')
            [CompletionResult]::new('--rotate-keep', '--rotate-keep', [CompletionResultType]::ParameterName, 'Archives kept per file after rotation (0 keeps none); the oldest go first')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Permissions of new log files, in octal (the umask still applies); new directories get 750')
            [CompletionResult]::new('--syslog', '--syslog', [CompletionResultType]::ParameterName, 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp')
            [CompletionResult]::new('--facility', '--facility', [CompletionResultType]::ParameterName, 'Syslog facility of forwarded lines')
            [CompletionResult]::new('--syslog-format', '--syslog-format', [CompletionResultType]::ParameterName, 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Leave out the start and end records')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Leave out the start and end records')
            [CompletionResult]::new('--env-unbuffered', '--env-unbuffered', [CompletionResultType]::ParameterName, 'Set PYTHONUNBUFFERED=1 and stdbuf''s line-buffering preload (when coreutils has it)')
            [CompletionResult]::new('--process-group', '--process-group', [CompletionResultType]::ParameterName, 'Start COMMAND in its own process group and send signals to the whole group')
            [CompletionResult]::new('--on-failure-print', '--on-failure-print', [CompletionResultType]::ParameterName, 'When COMMAND fails, print the lines it logged to stderr (read back from the first --path), so cron mails output only on failure')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write one JSON object per line; the pattern (--format) is then not used')
            [CompletionResult]::new('--parse-level', '--parse-level', [CompletionResultType]::ParameterName, 'Take each line''s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it')
            [CompletionResult]::new('--console', '--console', [CompletionResultType]::ParameterName, 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level')
            [CompletionResult]::new('--escape', '--escape', [CompletionResultType]::ParameterName, 'Escape control bytes in files too (\x1b, \r...), for logs read by trusting tools')
            [CompletionResult]::new('--rotate-compress', '--rotate-compress', [CompletionResultType]::ParameterName, 'Gzip archives in the background (PATH.<time>.gz)')
            [CompletionResult]::new('--no-sync', '--no-sync', [CompletionResultType]::ParameterName, 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'rlog;help' {
            [CompletionResult]::new('write', 'write', [CompletionResultType]::ParameterValue, 'Log one message (arguments joined by one space); each of its lines becomes a record')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run COMMAND, logging its stdout and stderr line by line; exit with its status')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'rlog;help;write' {
            break
        }
        'rlog;help;run' {
            break
        }
        'rlog;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
