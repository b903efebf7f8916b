# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rlog_global_optspecs
    string join \n p/path= l/level= min-level= f/format= json t/tag= define-level= parse-level console color= escape grace= drain-timeout= retry-for= max-line= rotate-size= rotate-keep= rotate-compress mode= syslog= facility= syslog-format= no-sync h/help V/version
end

function __fish_rlog_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rlog_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rlog_using_subcommand
    set -l cmd (__fish_rlog_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rlog -n "__fish_rlog_needs_command" -s p -l path -d 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout' -r -F
complete -c rlog -n "__fish_rlog_needs_command" -s l -l level -d 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level' -r -f -a "NOTSET\t''
DEBUG\t''
INFO\t''
WARNING\t''
ERROR\t''
CRITICAL\t''"
complete -c rlog -n "__fish_rlog_needs_command" -l min-level -d 'Drop lines below this level (a level name, as for --level)' -r -f -a "NOTSET\t''
DEBUG\t''
INFO\t''
WARNING\t''
ERROR\t''
CRITICAL\t''"
complete -c rlog -n "__fish_rlog_needs_command" -s f -l format -d 'Line pattern, e.g. \'%{timestamp} %{level:-7} %{message}\' (the default)' -r
complete -c rlog -n "__fish_rlog_needs_command" -s t -l tag -d 'Value of %{tag}, any text (like logger -t)' -r
complete -c rlog -n "__fish_rlog_needs_command" -l define-level -d 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25' -r
complete -c rlog -n "__fish_rlog_needs_command" -l color -d 'When to colour console output' -r -f -a "auto\t'Colour when standard output is a terminal and NO_COLOR is unset'
always\t''
never\t''"
complete -c rlog -n "__fish_rlog_needs_command" -l grace -d 'After SIGTERM/SIGINT, keep reading this long for the producer\'s last lines (e.g. 2s, 500ms)' -r
complete -c rlog -n "__fish_rlog_needs_command" -l drain-timeout -d 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none' -r
complete -c rlog -n "__fish_rlog_needs_command" -l retry-for -d 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted' -r
complete -c rlog -n "__fish_rlog_needs_command" -l max-line -d 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records' -r
complete -c rlog -n "__fish_rlog_needs_command" -l rotate-size -d 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>' -r
complete -c rlog -n "__fish_rlog_needs_command" -l rotate-keep -d 'Archives kept per file after rotation (0 keeps none); the oldest go first' -r
complete -c rlog -n "__fish_rlog_needs_command" -l mode -d 'Permissions of new log files, in octal (the umask still applies); new directories get 750' -r
complete -c rlog -n "__fish_rlog_needs_command" -l syslog -d 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp' -r
complete -c rlog -n "__fish_rlog_needs_command" -l facility -d 'Syslog facility of forwarded lines' -r -f -a "kern\t''
user\t''
mail\t''
daemon\t''
auth\t''
syslog\t''
lpr\t''
news\t''
uucp\t''
cron\t''
authpriv\t''
ftp\t''
local0\t''
local1\t''
local2\t''
local3\t''
local4\t''
local5\t''
local6\t''
local7\t''"
complete -c rlog -n "__fish_rlog_needs_command" -l syslog-format -d 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise' -r -f -a "rfc5424\t'RFC 5424: full timestamp, structured data with the line\'s seq'
rfc3164\t'RFC 3164 (BSD): what local daemons expect; no structured data'"
complete -c rlog -n "__fish_rlog_needs_command" -l json -d 'Write one JSON object per line; the pattern (--format) is then not used'
complete -c rlog -n "__fish_rlog_needs_command" -l parse-level -d 'Take each line\'s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it'
complete -c rlog -n "__fish_rlog_needs_command" -l console -d 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level'
complete -c rlog -n "__fish_rlog_needs_command" -l escape -d 'Escape control bytes in files too (\\x1b, \\r...), for logs read by trusting tools'
complete -c rlog -n "__fish_rlog_needs_command" -l rotate-compress -d 'Gzip archives in the background (PATH.<time>.gz)'
complete -c rlog -n "__fish_rlog_needs_command" -l no-sync -d 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)'
complete -c rlog -n "__fish_rlog_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlog -n "__fish_rlog_needs_command" -s V -l version -d 'Print version'
complete -c rlog -n "__fish_rlog_needs_command" -f -a "write" -d 'Log one message (arguments joined by one space); each of its lines becomes a record'
complete -c rlog -n "__fish_rlog_needs_command" -f -a "run" -d 'Run COMMAND, logging its stdout and stderr line by line; exit with its status'
complete -c rlog -n "__fish_rlog_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rlog -n "__fish_rlog_using_subcommand write" -s p -l path -d 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout' -r -F
complete -c rlog -n "__fish_rlog_using_subcommand write" -s l -l level -d 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level' -r -f -a "NOTSET\t''
DEBUG\t''
INFO\t''
WARNING\t''
ERROR\t''
CRITICAL\t''"
complete -c rlog -n "__fish_rlog_using_subcommand write" -l min-level -d 'Drop lines below this level (a level name, as for --level)' -r -f -a "NOTSET\t''
DEBUG\t''
INFO\t''
WARNING\t''
ERROR\t''
CRITICAL\t''"
complete -c rlog -n "__fish_rlog_using_subcommand write" -s f -l format -d 'Line pattern, e.g. \'%{timestamp} %{level:-7} %{message}\' (the default)' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -s t -l tag -d 'Value of %{tag}, any text (like logger -t)' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l define-level -d 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l color -d 'When to colour console output' -r -f -a "auto\t'Colour when standard output is a terminal and NO_COLOR is unset'
always\t''
never\t''"
complete -c rlog -n "__fish_rlog_using_subcommand write" -l grace -d 'After SIGTERM/SIGINT, keep reading this long for the producer\'s last lines (e.g. 2s, 500ms)' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l drain-timeout -d 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l retry-for -d 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l max-line -d 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l rotate-size -d 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l rotate-keep -d 'Archives kept per file after rotation (0 keeps none); the oldest go first' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l mode -d 'Permissions of new log files, in octal (the umask still applies); new directories get 750' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l syslog -d 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp' -r
complete -c rlog -n "__fish_rlog_using_subcommand write" -l facility -d 'Syslog facility of forwarded lines' -r -f -a "kern\t''
user\t''
mail\t''
daemon\t''
auth\t''
syslog\t''
lpr\t''
news\t''
uucp\t''
cron\t''
authpriv\t''
ftp\t''
local0\t''
local1\t''
local2\t''
local3\t''
local4\t''
local5\t''
local6\t''
local7\t''"
complete -c rlog -n "__fish_rlog_using_subcommand write" -l syslog-format -d 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise' -r -f -a "rfc5424\t'RFC 5424: full timestamp, structured data with the line\'s seq'
rfc3164\t'RFC 3164 (BSD): what local daemons expect; no structured data'"
complete -c rlog -n "__fish_rlog_using_subcommand write" -l json -d 'Write one JSON object per line; the pattern (--format) is then not used'
complete -c rlog -n "__fish_rlog_using_subcommand write" -l parse-level -d 'Take each line\'s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it'
complete -c rlog -n "__fish_rlog_using_subcommand write" -l console -d 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level'
complete -c rlog -n "__fish_rlog_using_subcommand write" -l escape -d 'Escape control bytes in files too (\\x1b, \\r...), for logs read by trusting tools'
complete -c rlog -n "__fish_rlog_using_subcommand write" -l rotate-compress -d 'Gzip archives in the background (PATH.<time>.gz)'
complete -c rlog -n "__fish_rlog_using_subcommand write" -l no-sync -d 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)'
complete -c rlog -n "__fish_rlog_using_subcommand write" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l stderr-level -d 'Level of the command\'s stderr lines (stdout lines get --level)' -r -f -a "NOTSET\t''
DEBUG\t''
INFO\t''
WARNING\t''
ERROR\t''
CRITICAL\t''"
complete -c rlog -n "__fish_rlog_using_subcommand run" -l kill-after -d 'SIGKILL a COMMAND still running this long after a forwarded signal (default for --time-limit: 10s), e.g. 30s' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l time-limit -d 'SIGTERM COMMAND when it has run this long (e.g. 2h, 90s); exit 124' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -s p -l path -d 'Append every line to PATH (repeatable). LEVEL=PATH gives the path a minimum level; PATH may hold pattern tokens (logs/%{level}.log). Without any, lines go to stdout' -r -F
complete -c rlog -n "__fish_rlog_using_subcommand run" -s l -l level -d 'Level of the lines: NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL (any case), or a name from --define-level' -r -f -a "NOTSET\t''
DEBUG\t''
INFO\t''
WARNING\t''
ERROR\t''
CRITICAL\t''"
complete -c rlog -n "__fish_rlog_using_subcommand run" -l min-level -d 'Drop lines below this level (a level name, as for --level)' -r -f -a "NOTSET\t''
DEBUG\t''
INFO\t''
WARNING\t''
ERROR\t''
CRITICAL\t''"
complete -c rlog -n "__fish_rlog_using_subcommand run" -s f -l format -d 'Line pattern, e.g. \'%{timestamp} %{level:-7} %{message}\' (the default)' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -s t -l tag -d 'Value of %{tag}, any text (like logger -t)' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l define-level -d 'Add a level, NAME=NUMBER (repeatable, or comma-separated), e.g. NOTICE=25' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l color -d 'When to colour console output' -r -f -a "auto\t'Colour when standard output is a terminal and NO_COLOR is unset'
always\t''
never\t''"
complete -c rlog -n "__fish_rlog_using_subcommand run" -l grace -d 'After SIGTERM/SIGINT, keep reading this long for the producer\'s last lines (e.g. 2s, 500ms)' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l drain-timeout -d 'Bound on the drain and sync at exit (e.g. 5s); exit 75 when it passes. Default: none' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l retry-for -d 'How long a failing write is retried before its path is given up (e.g. 10s, 1m; 0 = at once); for --syslog, how long a server may go without taking a line before its lines are dropped and counted' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l max-line -d 'Longest message in bytes (1MiB, 64k...); longer lines are split into several records' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l rotate-size -d 'Rotate a file before it would grow past SIZE (10MiB, 500k, 1G; KiB/MiB/GiB are powers of 1024, k/M/G of 1000); the archive is PATH.<UTC time>' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l rotate-keep -d 'Archives kept per file after rotation (0 keeps none); the oldest go first' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l mode -d 'Permissions of new log files, in octal (the umask still applies); new directories get 750' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l syslog -d 'Forward every line to a syslog server (repeatable): unix:/dev/log (the local daemon), udp://HOST:PORT (fire and forget), tcp://HOST:PORT (octet-counted), or relp://HOST:PORT (every line acknowledged before rlog exits 0). PORT defaults to 514 for udp and tcp' -r
complete -c rlog -n "__fish_rlog_using_subcommand run" -l facility -d 'Syslog facility of forwarded lines' -r -f -a "kern\t''
user\t''
mail\t''
daemon\t''
auth\t''
syslog\t''
lpr\t''
news\t''
uucp\t''
cron\t''
authpriv\t''
ftp\t''
local0\t''
local1\t''
local2\t''
local3\t''
local4\t''
local5\t''
local6\t''
local7\t''"
complete -c rlog -n "__fish_rlog_using_subcommand run" -l syslog-format -d 'Syslog message format. Default: rfc3164 for unix: sockets, rfc5424 otherwise' -r -f -a "rfc5424\t'RFC 5424: full timestamp, structured data with the line\'s seq'
rfc3164\t'RFC 3164 (BSD): what local daemons expect; no structured data'"
complete -c rlog -n "__fish_rlog_using_subcommand run" -s q -l quiet -d 'Leave out the start and end records'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l env-unbuffered -d 'Set PYTHONUNBUFFERED=1 and stdbuf\'s line-buffering preload (when coreutils has it)'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l process-group -d 'Start COMMAND in its own process group and send signals to the whole group'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l on-failure-print -d 'When COMMAND fails, print the lines it logged to stderr (read back from the first --path), so cron mails output only on failure'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l json -d 'Write one JSON object per line; the pattern (--format) is then not used'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l parse-level -d 'Take each line\'s level from a leading marker (<3>, ERROR, [WARN], E: ...) and strip it'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l console -d 'Also echo lines to stdout (like tee), control bytes escaped, coloured by level'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l escape -d 'Escape control bytes in files too (\\x1b, \\r...), for logs read by trusting tools'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l rotate-compress -d 'Gzip archives in the background (PATH.<time>.gz)'
complete -c rlog -n "__fish_rlog_using_subcommand run" -l no-sync -d 'Flush to the OS at exit but skip fsync (faster; lines may be lost in a crash)'
complete -c rlog -n "__fish_rlog_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlog -n "__fish_rlog_using_subcommand help; and not __fish_seen_subcommand_from write run help" -f -a "write" -d 'Log one message (arguments joined by one space); each of its lines becomes a record'
complete -c rlog -n "__fish_rlog_using_subcommand help; and not __fish_seen_subcommand_from write run help" -f -a "run" -d 'Run COMMAND, logging its stdout and stderr line by line; exit with its status'
complete -c rlog -n "__fish_rlog_using_subcommand help; and not __fish_seen_subcommand_from write run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
