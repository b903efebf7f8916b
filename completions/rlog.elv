
use builtin;
use str;

set edit:completion:arg-completer[rlog] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'rlog'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'rlog'= {
            cand -p 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout'
            cand --path 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout'
            cand -l 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level'
            cand --level 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level'
            cand --min-level 'Drop lines below this level (a level name, as for --level)'
            cand -f 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)'
            cand --format 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)'
            cand -t 'Value of %{tag}, any text (like logger -t)'
            cand --tag 'Value of %{tag}, any text (like logger -t)'
            cand --define-level 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25'
            cand --color 'When to colour console output'
            cand --grace 'After SIGTERM/SIGINT, keep reading this long for the producer''s last lines (e.g. 2s, 500ms)'
            cand --drain-timeout 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none'
            cand --retry-for 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted'
            cand --max-line 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records'
            cand --rotate-size 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>'
            cand --rotate-keep 'Archives kept per file after rotation (0 keeps none); the oldest go first'
            cand --mode 'Permissions of new log files, in octal (the umask still applies); new directories get 750'
            cand --syslog 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp'
            cand --facility 'Syslog facility of forwarded lines'
            cand --syslog-format 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise'
            cand --json 'Write one JSON object per line; the pattern (--format) is then not used'
            cand --parse-level 'Take each line''s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it'
            cand --console 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level'
            cand --escape 'Escape control bytes in files too (\x1b, \r...), for logs read by trusting tools'
            cand --rotate-compress 'Gzip archives in the background (PATH.<time>.gz)'
            cand --no-sync 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand write 'Log one message (arguments joined by one space); each of its lines becomes a record'
            cand run 'Run COMMAND, logging its stdout and stderr line by line; exit with its status'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rlog;write'= {
            cand -p 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout'
            cand --path 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout'
            cand -l 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level'
            cand --level 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level'
            cand --min-level 'Drop lines below this level (a level name, as for --level)'
            cand -f 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)'
            cand --format 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)'
            cand -t 'Value of %{tag}, any text (like logger -t)'
            cand --tag 'Value of %{tag}, any text (like logger -t)'
            cand --define-level 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25'
            cand --color 'When to colour console output'
            cand --grace 'After SIGTERM/SIGINT, keep reading this long for the producer''s last lines (e.g. 2s, 500ms)'
            cand --drain-timeout 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none'
            cand --retry-for 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted'
            cand --max-line 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records'
            cand --rotate-size 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>'
            cand --rotate-keep 'Archives kept per file after rotation (0 keeps none); the oldest go first'
            cand --mode 'Permissions of new log files, in octal (the umask still applies); new directories get 750'
            cand --syslog 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp'
            cand --facility 'Syslog facility of forwarded lines'
            cand --syslog-format 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise'
            cand --json 'Write one JSON object per line; the pattern (--format) is then not used'
            cand --parse-level 'Take each line''s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it'
            cand --console 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level'
            cand --escape 'Escape control bytes in files too (\x1b, \r...), for logs read by trusting tools'
            cand --rotate-compress 'Gzip archives in the background (PATH.<time>.gz)'
            cand --no-sync 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'rlog;run'= {
            cand --stderr-level 'Level of the command''s stderr lines (stdout lines get --level)'
            cand --kill-after 'SIGKILL a COMMAND still running this long after a forwarded signal (default for --time-limit: 10s), e.g. 30s'
            cand --time-limit 'SIGTERM COMMAND when it has run this long (e.g. 2h, 90s); exit 124'
            cand -p 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout'
            cand --path 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout'
            cand -l 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level'
            cand --level 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level'
            cand --min-level 'Drop lines below this level (a level name, as for --level)'
            cand -f 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)'
            cand --format 'Line pattern, e.g. ''%{timestamp} %{level:-7} %{message}'' (the default)'
            cand -t 'Value of %{tag}, any text (like logger -t)'
            cand --tag 'Value of %{tag}, any text (like logger -t)'
            cand --define-level 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25'
            cand --color 'When to colour console output'
            cand --grace 'After SIGTERM/SIGINT, keep reading this long for the producer''s last lines (e.g. 2s, 500ms)'
            cand --drain-timeout 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none'
            cand --retry-for 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted'
            cand --max-line 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records'
            cand --rotate-size 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>'
            cand --rotate-keep 'Archives kept per file after rotation (0 keeps none); the oldest go first'
            cand --mode 'Permissions of new log files, in octal (the umask still applies); new directories get 750'
            cand --syslog 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp'
            cand --facility 'Syslog facility of forwarded lines'
            cand --syslog-format 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise'
            cand -q 'Leave out the start and end records'
            cand --quiet 'Leave out the start and end records'
            cand --env-unbuffered 'Set PYTHONUNBUFFERED=1 and stdbuf''s line-buffering preload (when coreutils has it)'
            cand --process-group 'Start COMMAND in its own process group and send signals to the whole group'
            cand --on-failure-print 'When COMMAND fails, print the lines it logged to stderr (read back from the first --path), so cron mails output only on failure'
            cand --json 'Write one JSON object per line; the pattern (--format) is then not used'
            cand --parse-level 'Take each line''s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it'
            cand --console 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level'
            cand --escape 'Escape control bytes in files too (\x1b, \r...), for logs read by trusting tools'
            cand --rotate-compress 'Gzip archives in the background (PATH.<time>.gz)'
            cand --no-sync 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'rlog;help'= {
            cand write 'Log one message (arguments joined by one space); each of its lines becomes a record'
            cand run 'Run COMMAND, logging its stdout and stderr line by line; exit with its status'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'rlog;help;write'= {
        }
        &'rlog;help;run'= {
        }
        &'rlog;help;help'= {
        }
    ]
    $completions[$command]
}
