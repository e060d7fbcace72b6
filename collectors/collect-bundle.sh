#!/usr/bin/env bash
# SC2016: awk programs and jsonpath templates are single-quoted on purpose.
# SC2317: functions run through `step` (S_FN, S_FILTER, S_RETRY) or traps look unreachable.
# shellcheck disable=SC2016,SC2317
# collect-bundle.sh: gathers a kubetriage support bundle from a Kubernetes cluster (GKE or
# kubeadm) or from one of its nodes, and packs it as <name>-<UTC timestamp>.tar.gz.
#
# It exists because support engineers work offline on what customers send: this script is the
# half that runs at the customer's site. It needs nothing but bash 3.2+, kubectl, gcloud,
# journalctl and the standard tools of a Linux or macOS machine (GNU or BSD), so that it runs
# where customers really are. Every command is bounded in time, every result is recorded in
# manifest.json, nothing that fails stops the collection, and secrets are redacted before
# anything is written. Run it with --help for the options.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "collect-bundle: run this script with bash (bash collect-bundle.sh ...), not sh" >&2
    exit 2
fi
case "$BASH_VERSION" in
    [12].* | 3.[01].*)
        echo "collect-bundle: bash 3.2 or later is needed (this is $BASH_VERSION)" >&2
        exit 2
        ;;
esac

COLLECTOR_NAME="collect-bundle"
COLLECTOR_VERSION="0.1.0"

# Everything the script parses itself (awk, sed, tr, sort) works on bytes, never on a locale.
LC_ALL=C
export LC_ALL

usage() {
    cat <<'EOF'
Usage: collect-bundle.sh [OPTIONS]

Collects a support bundle for kubetriage and writes <name>-<UTC timestamp>.tar.gz (one
top-level folder inside). Progress goes to stderr; the path of the bundle is printed on
stdout. Nothing is sent anywhere: read the bundle before you share it.

What to collect
  (default)              cluster side: kubectl (and gcloud when the cluster is GKE)
  --node                 node side instead: run as root on a control-plane or worker node
                         (journals, kubelet and kubeadm configuration, container runtime,
                         binaries, network and DNS settings, CNI config, certificate
                         fingerprints)
  --also-cluster         with --node: collect the cluster side too, into the same bundle

Cluster side
  --kubeconfig FILE      kubeconfig for kubectl (default: kubectl's own choice)
  --context NAME         kubeconfig context (default: the current context)
  --project ID           GKE project; with --cluster and --location, marks the cluster as
                         GKE even when the context name does not say so
  --cluster NAME         GKE cluster name
  --location LOCATION    GKE cluster location (a region or a zone)
  --no-gcloud            never run gcloud, even for a GKE cluster
  --max-logs N           collect at most N container logs (current and previous count
                         separately; default 300)

Node side
  --node-name NAME       the node's name in the bundle (default: this machine's hostname)
  --root DIR             read the node's files below DIR instead of / (a node disk mounted
                         elsewhere); commands still run on this machine

Bounds
  --max-time DURATION    time limit of the whole run: 90s, 10m, 1h (default 10m);
                         cluster-wide lists first, then logs by priority; what the
                         deadline leaves out is recorded as skipped, the bundle is
                         still written
  --timeout SECONDS      time limit of each command (default 60)
  --parallel N           container logs collected at once (default 4, at most 16)
  --since DURATION       time window of logs and journals: 90m, 24h, 2d, 3600s (default 24h)
  --log-bytes SIZE       largest log or journal file; the newest part is kept (default 10M)
  --max-bytes SIZE       largest other file (default 256M)
                         SIZE takes a K, M or G suffix (powers of 1024)

Output
  -o, --output DIR       where to write the bundle (default: the current directory)
  --name NAME            first part of the bundle name (default: kubetriage-<cluster or node>)
  --no-archive           leave the bundle as a folder instead of a .tar.gz
  --redact FILE          print FILE with the same redaction applied to bundles (for terminal
                         output you add to a bundle by hand) and the number of redactions
                         on stderr, then exit; a FILE named *.json is redacted as JSON
  --dry-run              print every command that would run, run none (except reading the
                         current context from the kubeconfig, which is local), and exit
  -h, --help             show this help
  --version              print the collector's version

Exit status (a bundle is written whenever anything was collected):
  0  bundle written; single sources may have failed (see its manifest.json)
  1  no bundle: the output folder or disk failed, or nothing could be collected
  2  usage error
  3  kubectl is not installed (cluster side)
  4  the cluster could not be reached (network, VPN, context or kubeconfig)
  5  the cluster refused the credentials (expired login, missing auth plugin)
  6  the cluster answered but denied access to every list
  7  the cluster answered the probe but no list could be read in time
  130  interrupted twice: no bundle

Secrets: Secret objects are never collected, certificates are replaced by fingerprints, and
tokens, passwords, bearer and basic credentials, private keys, kubeconfig credentials, basic-auth
URLs and the values of secret-named environment variables are redacted from every file; the
manifest counts the redactions of each file. See collectors/README.md for the exact rules.
EOF
}

die_usage() {
    printf 'collect-bundle: %s\nRun collect-bundle.sh --help for the options.\n' "$1" >&2
    exit 2
}

die() {
    printf 'collect-bundle: %s\n' "$1" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Options

MODE_NODE=0
ALSO_CLUSTER=0
KUBECONFIG_OPT=""
CONTEXT_OPT=""
PROJECT_OPT=""
CLUSTER_OPT=""
LOCATION_OPT=""
NO_GCLOUD=0
MAX_LOGS=300
NODE_NAME_OPT=""
ROOT_OPT=""
TIMEOUT_S=60
MAX_TIME_OPT="10m"
PARALLEL=4
SINCE_OPT="24h"
LOG_BYTES_OPT="10M"
MAX_BYTES_OPT="256M"
OUTPUT_DIR="."
NAME_OPT=""
NO_ARCHIVE=0
DRY_RUN=0
REDACT_FILE=""

# parse_size SIZE: prints the number of bytes, or fails.
parse_size() {
    case "$1" in
        '' | *[!0-9KMGkmg]* | [!0-9]*) return 1 ;;
    esac
    _n=${1%[KMGkmg]}
    case "$_n" in *[!0-9]*) return 1 ;; esac
    case "$1" in
        *[Kk]) echo $((_n * 1024)) ;;
        *[Mm]) echo $((_n * 1024 * 1024)) ;;
        *[Gg]) echo $((_n * 1024 * 1024 * 1024)) ;;
        *) echo $((_n + 0)) ;;
    esac
}

# parse_duration DURATION: prints seconds, or fails.
parse_duration() {
    case "$1" in
        '' | *[!0-9smhd]* | [!0-9]*) return 1 ;;
    esac
    _n=${1%[smhd]}
    case "$_n" in *[!0-9]*) return 1 ;; esac
    case "$1" in
        *d) echo $((_n * 86400)) ;;
        *h) echo $((_n * 3600)) ;;
        *m) echo $((_n * 60)) ;;
        *) echo $((_n + 0)) ;;
    esac
}

# need_value OPTION VALUE: options take one line of text, never a newline.
need_value() {
    if [ "$#" -lt 2 ] || [ -z "$2" ]; then
        die_usage "$1 needs a value"
    fi
    case "$2" in
        *'
'*) die_usage "$1: the value must be on one line" ;;
    esac
}

while [ "$#" -gt 0 ]; do
    opt=$1
    val=""
    has_val=0
    case "$opt" in
        --*=*)
            val=${opt#*=}
            opt=${opt%%=*}
            has_val=1
            ;;
    esac
    case "$opt" in
        --kubeconfig | --context | --project | --cluster | --location | --max-logs | \
            --node-name | --root | --timeout | --since | --log-bytes | --max-bytes | \
            --max-time | --parallel | -o | --output | --name | --redact)
            if [ "$has_val" = 0 ]; then
                [ "$#" -ge 2 ] || die_usage "$opt needs a value"
                val=$2
                shift
            fi
            need_value "$opt" "$val"
            ;;
        *)
            [ "$has_val" = 0 ] || die_usage "$opt takes no value"
            ;;
    esac
    case "$opt" in
        -h | --help)
            usage
            exit 0
            ;;
        --version)
            echo "$COLLECTOR_NAME $COLLECTOR_VERSION"
            exit 0
            ;;
        --node) MODE_NODE=1 ;;
        --also-cluster) ALSO_CLUSTER=1 ;;
        --kubeconfig) KUBECONFIG_OPT=$val ;;
        --context) CONTEXT_OPT=$val ;;
        --project) PROJECT_OPT=$val ;;
        --cluster) CLUSTER_OPT=$val ;;
        --location) LOCATION_OPT=$val ;;
        --no-gcloud) NO_GCLOUD=1 ;;
        --max-logs)
            case "$val" in *[!0-9]*) die_usage "--max-logs takes a number, not '$val'" ;; esac
            MAX_LOGS=$val
            ;;
        --node-name) NODE_NAME_OPT=$val ;;
        --root) ROOT_OPT=$val ;;
        --timeout)
            case "$val" in *[!0-9]* | 0) die_usage "--timeout takes a number of seconds above 0, not '$val'" ;; esac
            TIMEOUT_S=$val
            ;;
        --max-time)
            parse_duration "$val" >/dev/null || die_usage "--max-time takes a duration such as 90s, 10m or 1h, not '$val'"
            MAX_TIME_OPT=$val
            ;;
        --parallel)
            case "$val" in *[!0-9]* | 0 | 0*) die_usage "--parallel takes a number from 1 to 16, not '$val'" ;; esac
            [ "$val" -le 16 ] || die_usage "--parallel takes a number from 1 to 16, not '$val'"
            PARALLEL=$val
            ;;
        --since)
            parse_duration "$val" >/dev/null || die_usage "--since takes a duration such as 90m, 24h or 2d, not '$val'"
            SINCE_OPT=$val
            ;;
        --log-bytes)
            parse_size "$val" >/dev/null || die_usage "--log-bytes takes a size such as 512K or 10M, not '$val'"
            LOG_BYTES_OPT=$val
            ;;
        --max-bytes)
            parse_size "$val" >/dev/null || die_usage "--max-bytes takes a size such as 64M or 1G, not '$val'"
            MAX_BYTES_OPT=$val
            ;;
        -o | --output) OUTPUT_DIR=$val ;;
        --name) NAME_OPT=$val ;;
        --no-archive) NO_ARCHIVE=1 ;;
        --dry-run) DRY_RUN=1 ;;
        --redact) REDACT_FILE=$val ;;
        *) die_usage "unknown option: $opt" ;;
    esac
    shift
done

[ "$ALSO_CLUSTER" = 0 ] || [ "$MODE_NODE" = 1 ] || die_usage "--also-cluster goes with --node"
SINCE_S=$(parse_duration "$SINCE_OPT")
MAX_TIME_S=$(parse_duration "$MAX_TIME_OPT")
[ "$MAX_TIME_S" -gt 0 ] || die_usage "--max-time must be above 0"
LOG_BYTES=$(parse_size "$LOG_BYTES_OPT")
MAX_BYTES=$(parse_size "$MAX_BYTES_OPT")
[ "$LOG_BYTES" -gt 0 ] || die_usage "--log-bytes must be above 0"
[ "$MAX_BYTES" -gt 0 ] || die_usage "--max-bytes must be above 0"
[ "$SINCE_S" -gt 0 ] || die_usage "--since must be above 0"
ROOT=${ROOT_OPT%/}
if [ -n "$ROOT_OPT" ] && [ ! -d "$ROOT_OPT" ]; then
    die_usage "--root $ROOT_OPT is not a folder"
fi

DO_CLUSTER=1
DO_NODE=0
if [ "$MODE_NODE" = 1 ]; then
    DO_NODE=1
    DO_CLUSTER=$ALSO_CLUSTER
fi

# ---------------------------------------------------------------------------------------------
# Small portable functions

have() { command -v "$1" >/dev/null 2>&1; }

# Strings shown on the terminal come from the cluster: only printable ASCII gets through.
printable() { printf '%s' "$1" | tr -c ' -~' '?'; }

# safe_name TEXT: one path component made only of [A-Za-z0-9._-], never . or ..
safe_name() {
    _s=$(printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_' | sed 's/\.\./__/g')
    case "$_s" in
        '') _s="_" ;;
        .*) _s="_${_s#.}" ;;
    esac
    printf '%s' "$_s"
}

utc_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# Milliseconds since the epoch, as precise as this shell and date allow.
CLOCK_KIND=s
if [ -n "${EPOCHREALTIME:-}" ]; then
    CLOCK_KIND=bash
else
    case "$(date +%s%N 2>/dev/null)" in
        *[!0-9]* | '') CLOCK_KIND=s ;;
        *) CLOCK_KIND="date" ;;
    esac
fi
now_ms() {
    case "$CLOCK_KIND" in
        bash)
            _t=${EPOCHREALTIME}
            _sec=${_t%[.,]*}
            _frac=${_t#*[.,]}000
            _frac=${_frac%"${_frac#???}"}
            echo $((_sec * 1000 + 10#$_frac))
            ;;
        date)
            _t=$(date +%s%N)
            echo $((_t / 1000000))
            ;;
        *) echo $(($(date +%s) * 1000)) ;;
    esac
}

file_size() {
    if [ -s "$1" ]; then
        _b=$(wc -c <"$1")
        echo $((_b + 0))
    else
        echo 0
    fi
}

# ---------------------------------------------------------------------------------------------
# awk programs. Every one runs with LC_ALL=C, so strings are bytes in any awk (gawk, mawk,
# busybox, BSD).

# JSON string escaping: quotes, backslashes and control characters are escaped, valid UTF-8 is
# kept, and every byte that is not part of a valid UTF-8 sequence becomes U+FFFD.
AWK_JSON_LIB='
function json_init(   i) {
    for (i = 1; i < 256; i++) ORD[sprintf("%c", i)] = i
    BYTE_MODE = (length(sprintf("%c", 233)) == 1)
    HEX = "0123456789abcdef"
}
function json_cont(s, i, lo, hi,   b) {
    b = ORD[substr(s, i, 1)]
    return (b >= lo && b <= hi)
}
function json_str(s,   out, i, n, c, b, need, lo, hi, k, ok) {
    if (s !~ /[^ -~]/ && s !~ /["\\]/) return "\"" s "\""
    out = ""
    n = length(s)
    i = 1
    while (i <= n) {
        c = substr(s, i, 1)
        if (c == "\"") { out = out "\\\""; i++; continue }
        if (c == "\\") { out = out "\\\\"; i++; continue }
        if (c >= " " && c <= "~") { out = out c; i++; continue }
        b = ORD[c]
        if (b == 10) { out = out "\\n"; i++; continue }
        if (b == 9) { out = out "\\t"; i++; continue }
        if (b == 13) { out = out "\\r"; i++; continue }
        if (b < 32 || b == 127) {
            out = out "\\u00" substr(HEX, int(b / 16) + 1, 1) substr(HEX, b % 16 + 1, 1)
            i++
            continue
        }
        if (!BYTE_MODE) { out = out "?"; i++; continue }
        need = 0; lo = 128; hi = 191
        if (b >= 194 && b <= 223) need = 1
        else if (b == 224) { need = 2; lo = 160 }
        else if (b >= 225 && b <= 236) need = 2
        else if (b == 237) { need = 2; hi = 159 }
        else if (b >= 238 && b <= 239) need = 2
        else if (b == 240) { need = 3; lo = 144 }
        else if (b >= 241 && b <= 243) need = 3
        else if (b == 244) { need = 3; hi = 143 }
        ok = (need > 0 && i + need <= n)
        if (ok && !json_cont(s, i + 1, lo, hi)) ok = 0
        for (k = 2; ok && k <= need; k++) if (!json_cont(s, i + k, 128, 191)) ok = 0
        if (ok) { out = out substr(s, i, need + 1); i += need + 1 }
        else { out = out "\\ufffd"; i++ }
    }
    return "\"" out "\""
}
'

# One manifest record. Strings come from the environment (never through awk -v, which would
# interpret backslashes), the command from ARGV, numbers from -v.
AWK_RECORD='
BEGIN {
    json_init()
    rec = "{\"path\": " json_str(ENVIRON["R_PATH"]) ", \"command\": ["
    for (i = 1; i < ARGC; i++) rec = rec (i > 1 ? ", " : "") json_str(ARGV[i])
    rec = rec "], \"exit_code\": " rc ", \"started\": " json_str(ENVIRON["R_STARTED"])
    rec = rec ", \"duration_ms\": " dur ", \"bytes\": " bytes
    err = ""
    f = ENVIRON["R_STDERR_FILE"]
    if (f != "") {
        first = 1
        while ((getline line < f) > 0) { err = err (first ? "" : "\n") line; first = 0 }
        close(f)
    }
    rec = rec ", \"stderr\": " json_str(err) ", \"redactions\": " red
    rec = rec ", \"truncated\": " (trunc ? "true" : "false")
    rec = rec ", \"bound\": " ENVIRON["R_BOUND"]
    if (ENVIRON["R_ERROR"] != "") rec = rec ", \"error\": " json_str(ENVIRON["R_ERROR"])
    if (ENVIRON["R_ATTEMPTS"] != "") rec = rec ", \"attempts\": [" ENVIRON["R_ATTEMPTS"] "]"
    rec = rec "}"
    print rec
    exit
}
'

# An earlier attempt of a source that was retried with other arguments.
AWK_ATTEMPT='
BEGIN {
    json_init()
    rec = "{\"command\": ["
    for (i = 1; i < ARGC; i++) rec = rec (i > 1 ? ", " : "") json_str(ARGV[i])
    err = ""
    f = ENVIRON["R_STDERR_FILE"]
    first = 1
    while ((getline line < f) > 0) { err = err (first ? "" : "\n") line; first = 0 }
    close(f)
    print rec "], \"exit_code\": " rc ", \"stderr\": " json_str(err) "}"
    exit
}
'

# Plain strings from the environment as JSON: S1, S2... printed one per line.
AWK_STRINGS='
BEGIN {
    json_init()
    for (i = 1; i < ARGC; i++) print json_str(ENVIRON[ARGV[i]])
    exit
}
'

# Redaction. Reads a file, writes it with secrets replaced, and writes the number of
# replacements to the file named by -v countfile. With -v mode=json the input is JSON (one
# document or one a line) and only the contents of its strings change, so it stays JSON; else
# it is text, redacted line by line. Matching is case-insensitive (on a lower-case copy of each
# line, whose positions are the same bytes in the C locale).
AWK_REDACT='
# rep(c, k): c repeated k times (no {n} intervals: old mawk lacks them).
function rep(c, k,   s) { s = ""; while (k-- > 0) s = s c; return s }
function init(   i) {
    # Secret-named keys: what a key name ends with (any case; _ - . or nothing between words).
    SK = "(password|passwd|passphrase|[_.-]pass|[_.-]pwd|secret|token|api[_.-]?key|access[_.-]?key|account[_.-]?key|secret[_.-]?key|private[_.-]?key|client[_.-]?key|certificate[_.-]?key|key[_.-]?data|certificate[_.-]?data|certificate|credentials?|auth|dsn|dockerconfigjson|dockercfg)"
    # The same for a JSON key with its separators removed.
    SKN = "(password|passwd|passphrase|secret|token|apikey|accesskey|accountkey|secretkey|privatekey|clientkey|certificatekey|keydata|certificatedata|certificate|credentials?|auth|dsn|dockerconfigjson|dockercfg)$"
    # Keys and environment names of passwords, whose value is secret even when it is a number.
    PWK = "(pass|passwd|password|passphrase|pwd)"
    # Secret names that mark a value even in the middle of a free-text line (password: x).
    MIDK = "(password|passwd|passphrase|api[_-]?key|client[_-]?secret|secret[_-]?key|access[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?token)"
    KC = "[a-z0-9_.-]*"
    JSTR = "\"([^\"\\\\]|\\\\.)*\""
    # A string inside a JSON string (\"...\"): its own escapes, \\\" (a quote of a string
    # nested once more) and \\ (a backslash) stay inside it.
    ESTR = "\\\\\"([^\"\\\\]|\\\\\\\\\\\\\"|\\\\\\\\|\\\\[^\"\\\\])*\\\\\""
    # A plain quoted value one string deeper (\\\"x\\\"): replaced with its quotes, which pair.
    E2STR = "\\\\\\\\\\\\\"[^\"\\\\]*\\\\\\\\\\\\\""
    ENVNAME = "(pass|secret|token|apikey|api_key|api-key|_key|key_|credential|auth|private|cert|pwd|^sk_|_sk$|_sk_|^pat_|_pat$|_pat_|dsn)"
    # The same, as the whole text between the quotes of a JSON string (escaped quotes: ENVQE).
    ENVW = "(pass|secret|token|apikey|api_key|api-key|_key|key_|credential|auth|private|cert|pwd|_sk_|_pat_|dsn)"
    ENVQ = "([^\"]*" ENVW "[^\"]*|(sk|pat)_[^\"]*|[^\"]*_(sk|pat))"
    ENVQE = "([^\"\\\\]*" ENVW "[^\"\\\\]*|(sk|pat)_[^\"\\\\]*|[^\"\\\\]*_(sk|pat))"
    FLAG = "^--?[a-z0-9-]*(token|password|passwd|secret|certificate-key|api-key|apikey|credentials?)$"
    FLAGW = "(token|password|passwd|secret|certificate-key|api-key|apikey)"
    A9 = "[a-z0-9]"
    HEX = "[0-9a-f]"
    BOOT = rep(A9, 6) "\\." rep(A9, 16)
    GATE = "pass|secret|token|key|auth|_pat|pat_|_sk|sk_|cred|bearer|basic|://|-----|ls0tls1|eyj|eyaiyxv0|ewoj|ewogi|ew0kc|ya29|aiza|gh[pousr]_|github_pat|akia|asia|xox|k_live|k_test|hooks|pwd|dsn|dockerc|sig=|signature=|" BOOT
    # The base64 of a docker config.json (the data of a .dockerconfigjson): {"auths": with the
    # spacing docker, kubectl and people write it with.
    R_DOCKERCFG = "(eyjhdxrocyi6|eyjhdxrocyigo|eyaiyxv0ahmio|ewojimf1dghzij|ewogicjhdxrocyi6|ewogicagimf1dghzij|ew0kcsjhdxrocyi6)[a-z0-9+/=]*"
    R_AIZA = "aiza" rep("[a-z0-9_-]", 9) "[a-z0-9_-]*"
    R_GHP = "gh[pousr]_" rep("[A-Za-z0-9]", 20) "[A-Za-z0-9]*"
    R_GHPAT = "github_pat_" rep("[A-Za-z0-9_]", 20) "[A-Za-z0-9_]*"
    R_AKIA = "(AKIA|ASIA)" rep("[A-Z0-9]", 16)
    R_XOX = "xox[abposr]-" rep("[a-z0-9-]", 10) "[a-z0-9-]*"
    R_STRIPE = "[sr]k_(live|test)_" rep(A9, 10) "[a-z0-9]*"
    R_SENTRY = "://" rep(HEX, 32) "(:" HEX "*)?@"
    BOOTK = "^[^a-z0-9]?" rep(A9, 6) "\\."
    PEMT = "[a-z0-9 ]*(private key|certificate[a-z ]*)( block)?"
    PEM_BEGIN = "-----begin " PEMT "-----"
    PEM_END = "-----end " PEMT "-----"
    SOH = sprintf("%c", 1)
    BS = sprintf("%c", 8)
    FF = sprintf("%c", 12)
    for (i = 1; i < 32; i++) CH[sprintf("%c", i)] = i
    JSPECIAL = "[\\\\\"" SOH "-" sprintf("%c", 31) "]"
    n = 0
    tstate_reset()
}
function tstate_reset() { T_BLOCK = -1; T_BDONE = 0; T_PEM = 0; T_ENV = 0; T_ARG = 0; PWV = 0 }
function is_plain(v) {
    return (v ~ /^(true|false|null|~|yes|no|on|off|[0-9.]+|""|\x27\x27)?$/)
}
# keep_plain(v, pw): whether a value under a secret name is left as it is: true, false, null,
# empty, and numbers, except under a password (pw), where a number is the password itself.
function keep_plain(v, pw) {
    return (is_plain(v) && !(pw && v ~ /^[0-9.]+$/))
}
# kv(A, K, plain, qmark): every match of A (on the lower-case line) is a key with its value; K
# (anchored) matches the key part, which is kept. A quoted value keeps its quotes (double, single or escaped double)
# and only what is between them becomes [REDACTED]. plain: leave plain values (true, 3).
# qmark: 1, an unquoted value becomes "[REDACTED]" (YAML: keeps it a string); 2, only a number
# does (TOML stays valid: a bare [REDACTED] is none of its types).
# keep: a last byte that matches it is kept (the @ of a URL, the boundary after a token).
function kv(A, K, plain, qmark, keep,   out, rest, lrest, s, m, seg, plen, val, head, tail, q, mark) {
    out = ""; rest = line; lrest = tolower(line)
    while (match(lrest, A)) {
        s = RSTART; m = RLENGTH
        if (m == 0) break
        seg = substr(lrest, s, m)
        if (!match(seg, K)) { out = out substr(rest, 1, s + m - 1); rest = substr(rest, s + m); lrest = substr(lrest, s + m); continue }
        plen = RLENGTH
        val = substr(rest, s + plen, m - plen)
        head = ""; tail = ""; mark = "[REDACTED]"
        q = substr(val, 1, 1)
        if (length(val) >= 4 && substr(val, 1, 2) == "\\\"" && substr(val, length(val) - 1) == "\\\"") {
            head = "\\\""; tail = "\\\""; val = substr(val, 3, length(val) - 4)
        } else if (length(val) >= 2 && (q == "\"" || q == "\x27") && substr(val, length(val), 1) == q) {
            head = q; tail = q; val = substr(val, 2, length(val) - 2)
        } else if (keep != "" && substr(val, length(val), 1) ~ keep) {
            tail = substr(val, length(val), 1); val = substr(val, 1, length(val) - 1)
        } else if (match(val, /\\+$/)) {
            # Text that is JSON in a string (a log line, a YAML value): the backslash of the
            # \" that ends the string is kept, so that the string still ends.
            tail = substr(val, RSTART); val = substr(val, 1, RSTART - 1)
        } else if (qmark == 1 || (qmark == 2 && val ~ /^[0-9.]+$/)) {
            mark = "\"[REDACTED]\""
        }
        if (val == "" || index(val, "[REDACTED") || (plain && keep_plain(tolower(val), PWV || substr(seg, 1, plen) ~ (PWK "[^a-z0-9]*(value[^a-z0-9]*)?$")))) {
            out = out substr(rest, 1, s + m - 1)
        } else {
            out = out substr(rest, 1, s + plen - 1) head mark tail
            n++
        }
        rest = substr(rest, s + m); lrest = substr(lrest, s + m)
    }
    line = out rest
}
# whole(A, R, cs): every match of A is replaced by R; cs: match the line as it is, not lower-cased.
function whole(A, R, cs,   out, rest, lrest) {
    out = ""; rest = line; lrest = cs ? line : tolower(line)
    while (match(lrest, A)) {
        if (RLENGTH == 0) break
        out = out substr(rest, 1, RSTART - 1) R
        n++
        rest = substr(rest, RSTART + RLENGTH); lrest = substr(lrest, RSTART + RLENGTH)
    }
    line = out rest
}
# PEM blocks that begin on this line. Each takes the PEM text that follows it (base64, the
# headers of an encrypted key, the \n escapes of a JSON string held in the line) and its END
# line when that comes next; what is not PEM text (the quote that ends a string, another
# block) is kept. A block that reaches the end of the line without its END goes on over the
# next lines (T_PEM).
function pem_inline(   out, rest, lrest, what, ended) {
    out = ""; rest = line; lrest = tolower(line)
    while (match(lrest, PEM_BEGIN)) {
        what = (substr(lrest, RSTART, RLENGTH) ~ /private key/) ? "[REDACTED PRIVATE KEY]" : "[REDACTED CERTIFICATE]"
        out = out substr(rest, 1, RSTART - 1) what
        n++
        rest = substr(rest, RSTART + RLENGTH); lrest = substr(lrest, RSTART + RLENGTH)
        ended = 0
        while (1) {
            match(rest, /^([A-Za-z0-9+\/=,: \t\r]|\\[nr\/])*/)
            rest = substr(rest, RLENGTH + 1); lrest = substr(lrest, RLENGTH + 1)
            if (match(lrest, "^" PEM_END)) {
                rest = substr(rest, RLENGTH + 1); lrest = substr(lrest, RLENGTH + 1)
                ended = 1
                break
            }
            # A dash or a dot of a header (Proc-Type, AES-128-CBC), not the dashes of a line.
            if (substr(rest, 1, 1) ~ /[-.]/ && substr(rest, 1, 5) != "-----") {
                rest = substr(rest, 2); lrest = substr(lrest, 2)
                continue
            }
            break
        }
        if (!ended && rest == "") { T_PEM = 1; break }
    }
    line = out rest
}
# A YAML key (not a PEM header) ends a PEM block whatever its value: a block scalar whose END
# never came.
function yaml_key(s) {
    return (s ~ /^[ \t]*(-[ \t]+)?[A-Za-z0-9_.\/-]+:([ \t]|$)/ && s !~ /^[ \t]*(Proc-Type|DEK-Info):/)
}
# A line inside a PEM block: base64 (or a Proc-Type/DEK-Info header), alone or after a log
# prefix (then at least 16 bytes of it).
function pem_body(s) {
    if (s ~ /^[ \t]*[A-Za-z0-9+\/=]*[ \t\r]*$/) return 1
    if (s ~ /^[ \t]*(Proc-Type|DEK-Info):/) return 1
    if (yaml_key(s)) return 0
    return (s ~ /[ \t:][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/][A-Za-z0-9+\/]+=*[ \t\r]*$/)
}
# The rules that need no state, on `line`.
# Each pattern is tried where it is written before the function that rewrites its matches is
# called: gawk keeps a dynamic regex compiled for the place that uses it, so kv() and whole(),
# which see a new pattern at every call, would compile every pattern again for every line.
function rules() {
    pem_inline()
    if (tolower(line) ~ (RX = "ls0tls1crudjti[a-z0-9+/=]*")) whole(RX, "[REDACTED BASE64 PEM]")
    if (tolower(line) ~ (RX = "eyj[a-z0-9_-]+\\.eyj[a-z0-9_-]+\\.[a-z0-9_-]*")) whole(RX, "[REDACTED JWT]")
    if (tolower(line) ~ (RX = "ya29\\.[a-z0-9_.-]+")) whole(RX, "[REDACTED OAUTH TOKEN]")
    if (tolower(line) ~ (RX = R_AIZA)) whole(RX, "[REDACTED API KEY]")
    if (line ~ (RX = R_GHP)) whole(RX, "[REDACTED GITHUB TOKEN]", 1)
    if (line ~ (RX = R_GHPAT)) whole(RX, "[REDACTED GITHUB TOKEN]", 1)
    if (line ~ (RX = R_AKIA)) whole(RX, "[REDACTED AWS KEY ID]", 1)
    if (tolower(line) ~ (RX = R_XOX)) whole(RX, "[REDACTED SLACK TOKEN]")
    if (tolower(line) ~ (RX = R_STRIPE)) whole(RX, "[REDACTED STRIPE KEY]")
    if (tolower(line) ~ (RX = R_DOCKERCFG)) whole(RX, "[REDACTED BASE64 DOCKER CONFIG]")
    # The signature of a signed URL (Azure SAS, S3 and GCS presigned): it grants access alone.
    if (tolower(line) ~ (RX = "[?&;](sig|signature|x-amz-signature|x-goog-signature)=[^&#; \t\"\x27\\\\]+")) kv(RX, "^[?&;](sig|signature|x-amz-signature|x-goog-signature)=", 0, 0)
    if (tolower(line) ~ (RX = "hooks\\.slack\\.com/services/[a-z0-9/_-]+")) kv(RX, "^hooks\\.slack\\.com/services/", 0, 0)
    # Sentry DSNs: the key is the user name of the URL.
    if (tolower(line) ~ (RX = R_SENTRY)) kv(RX, "^://", 0, 0, "@")
    # Authorization headers.
    if (tolower(line) ~ (RX = "bearer[ \t]+[a-z0-9._~+/=-]+")) kv(RX, "^bearer[ \t]+", 0, 0)
    if (tolower(line) ~ (RX = "authorization[\"\x27]?[ \t]*[:=][ \t]*[\"\x27]?basic[ \t]+[a-z0-9+/=]+")) kv(RX, "^authorization[\"\x27]?[ \t]*[:=][ \t]*[\"\x27]?basic[ \t]+", 0, 0)
    # user:password@ in URLs (the user name may be empty: redis://:pw@host).
    if (tolower(line) ~ (RX = "[a-z][a-z0-9+.-]*://[^/@: \t\"\x27]*:[^/@ \t\"\x27]+@")) kv(RX, "^[a-z][a-z0-9+.-]*://[^/@: \t\"\x27]*:", 0, 0, "@")
    # kubeadm bootstrap tokens (the id before the dot is public, the rest is the secret).
    if (tolower(line) ~ (RX = "(^|[^a-z0-9])" BOOT "([^a-z0-9]|$)")) kv(RX, BOOTK, 0, 0, "[^a-z0-9]")
    # Environment variables with secret names, inline: "name": "DB_PASSWORD", "value": "..."
    if (tolower(line) ~ (RX = "\"name\"[ \t]*:[ \t]*\"" ENVQ "\"[ \t]*,[ \t]*\"value\"[ \t]*:[ \t]*" JSTR)) kv(RX, "^\"name\"[ \t]*:[ \t]*\"[^\"]*\"[ \t]*,[ \t]*\"value\"[ \t]*:[ \t]*", 1, 0)
    if (tolower(line) ~ (RX = "\\\\\"name\\\\\"[ \t]*:[ \t]*\\\\\"" ENVQE "\\\\\"[ \t]*,[ \t]*\\\\\"value\\\\\"[ \t]*:[ \t]*" ESTR)) kv(RX, "^\\\\\"name\\\\\"[ \t]*:[ \t]*\\\\\"[^\"\\\\]*\\\\\"[ \t]*,[ \t]*\\\\\"value\\\\\"[ \t]*:[ \t]*", 1, 0)
    # JSON keys with secret names in text: "password": "...", and escaped \"token\":\"...\".
    if (tolower(line) ~ (RX = "\"" KC SK "\"[ \t]*:[ \t]*" JSTR)) kv(RX, "^\"" KC SK "\"[ \t]*:[ \t]*", 1, 0)
    if (tolower(line) ~ (RX = "\\\\\"" KC SK "\\\\\"[ \t]*:[ \t]*" ESTR)) kv(RX, "^\\\\\"" KC SK "\\\\\"[ \t]*:[ \t]*", 1, 0)
    # YAML keys with secret names: token: ..., client-key-data: ...
    if (tolower(line) ~ (RX = "^[ \t]*(-[ \t]+)?" KC SK "[ \t]*:[ \t]+[^ \t{[|>&*#].*")) kv(RX, "^[ \t]*(-[ \t]+)?" KC SK "[ \t]*:[ \t]+", 1, 1)
    # A quoted YAML value whose text starts with a secret key: note: "token: x".
    if (tolower(line) ~ (RX = "^[ \t]*(-[ \t]+)?[^ \t:]+:[ \t]+[\"\x27]" KC SK "[ \t]*:[ \t]+[^ \t\"\x27\\\\]+")) kv(RX, "^[ \t]*(-[ \t]+)?[^ \t:]+:[ \t]+[\"\x27]" KC SK "[ \t]*:[ \t]+", 1, 0)
    # A JSON string value held in a text line whose text starts with a secret key: "token: x".
    if (tolower(line) ~ (RX = ":[ \t]*\"" KC SK "[ \t]*:[ \t]+[^ \t\"\\\\][^\"\\\\]*")) kv(RX, "^:[ \t]*\"" KC SK "[ \t]*:[ \t]+", 1, 0)
    # The same inside a JSON string of a log line, where lines are \n escapes.
    if (tolower(line) ~ (RX = "\\\\n[ \t]*(-[ \t]+)?" KC SK "[ \t]*:[ \t]+[^\\\\\" \t{[|>&*#][^\\\\\"]*")) kv(RX, "^\\\\n[ \t]*(-[ \t]+)?" KC SK "[ \t]*:[ \t]+", 1, 0)
    # TOML, INI and env files: key = value at the start of a line (the auth = "..." of containerd).
    if (tolower(line) ~ (RX = "^[ \t]*(export[ \t]+)?" KC SK "[ \t]*=[ \t]*(\"([^\"\\\\]|\\\\.)*\"|\x27[^\x27]*\x27|[^ \t\"\x27#;][^\t#;]*)")) kv(RX, "^[ \t]*(export[ \t]+)?" KC SK "[ \t]*=[ \t]*", 1, 2)
    # The same inside a JSON string of a log line (a config file logged whole).
    if (tolower(line) ~ (RX = "\\\\n[ \t]*" KC SK "[ \t]*=[ \t]*(" ESTR "|[^ \t\"\\\\#;][^\\\\\"\t#;]*)")) kv(RX, "^\\\\n[ \t]*" KC SK "[ \t]*=[ \t]*", 1, 0)
    # A secret flag and its value as two items of a JSON list on one line: "--token", "x".
    if (tolower(line) ~ (RX = "\"--?[a-z0-9-]*" FLAGW "\"[ \t]*,[ \t]*\"[^-\"\\\\]([^\"\\\\]|\\\\.)*\"")) kv(RX, "^\"--?[a-z0-9-]*" FLAGW "\"[ \t]*,[ \t]*", 1, 0)
    if (tolower(line) ~ (RX = "\\\\\"--?[a-z0-9-]*" FLAGW "\\\\\"[ \t]*,[ \t]*\\\\\"[^-\"\\\\]([^\"\\\\]|\\\\[^\"])*\\\\\"")) kv(RX, "^\\\\\"--?[a-z0-9-]*" FLAGW "\\\\\"[ \t]*,[ \t]*", 1, 0)
    # key=value anywhere (flags, logfmt) and --flag value.
    if (tolower(line) ~ (RX = "(^|[^a-z0-9_.-])(--)?" KC SK "=(" ESTR "|" E2STR "|\"[^\"]*\"|\x27[^\x27]*\x27|([^ \t,;&\"\x27\\\\]|\\\\[^\"])+)")) kv(RX, "^[^a-z0-9_.-]?(--)?" KC SK "=", 1, 0)
    if (tolower(line) ~ (RX = "--[a-z0-9-]*(token|password|passwd|secret|certificate-key|api-key|apikey)[ \t]+(" ESTR "|" E2STR "|\"[^\"]*\"|\x27[^\x27]*\x27|[^- \t\"\x27][^ \t\"\x27]*)")) kv(RX, "^--[a-z0-9-]*(token|password|passwd|secret|certificate-key|api-key|apikey)[ \t]+", 1, 0)
    # password: x, X-Api-Key: x in the middle of a line.
    if (tolower(line) ~ (RX = "(^|[^a-z0-9_.-])" KC MIDK "[\"\x27]?[ \t]*[:=][ \t]*(\"[^\"]*\"|\x27[^\x27]*\x27|[^ \t,;&\"\x27\\\\]+)")) kv(RX, "^[^a-z0-9_.-]?" KC MIDK "[\"\x27]?[ \t]*[:=][ \t]*", 1, 0)
}
# yaml_keep_string(ORIG): when a marker now opens the value of a YAML key or list item
# (note: [REDACTED JWT]), YAML would read a list: the value is single-quoted to stay a string.
function yaml_keep_string(orig,   p, v) {
    if (!match(line, /^[ \t]*(-[ \t]+)?([A-Za-z0-9_.\/-]+:[ \t]+)?/)) return
    p = RLENGTH
    if (substr(line, 1, p) !~ /[:-][ \t]+$/ || substr(line, p + 1, 9) != "[REDACTED" || substr(orig, p + 1, 1) == "[") return
    v = substr(line, p + 1)
    gsub(/\x27/, "\x27\x27", v)
    line = substr(line, 1, p) "\x27" v "\x27"
}
# tline(): one line of a text file (or of the text of a string) in `line`, with the state of the
# lines before it. Returns 0 when the line is dropped (inside a PEM block).
function tline(   l, v, orig) {
    # The lines of a YAML block scalar under a secret key (token: |): more indented than it.
    if (T_BLOCK >= 0) {
        match(line, /^[ ]*/)
        if (line ~ /^[ \t\r]*$/ || RLENGTH > T_BLOCK) {
            if (!T_BDONE) { line = substr(line, 1, RLENGTH) "[REDACTED]"; n++; T_BDONE = 1; return 1 }
            return 0
        }
        T_BLOCK = -1
    }
    l = tolower(line)
    if (l ~ ("^[ ]*(-[ ]+)?" KC SK "[ \t]*:[ \t]*[|>][-+0-9]*[ \t\r]*$")) {
        match(line, /^[ ]*/)
        T_BLOCK = RLENGTH
        T_BDONE = 0
        return 1
    }
    # Inside a multi-line PEM block: it ends at its END line, or at the first line that is
    # not PEM text (a block whose END never comes does not take the rest with it).
    if (T_PEM) {
        if (yaml_key(line)) {
            T_PEM = 0
        } else if (match(l, PEM_END)) {
            line = substr(line, RSTART + RLENGTH)
            T_PEM = 0
            if (line ~ /^[ \t\r]*$/) return 0
        } else if (pem_body(line)) {
            return 0
        } else {
            T_PEM = 0
        }
        l = tolower(line)
    }
    if (l ~ GATE) {
        orig = line
        rules()
        if (line != orig) yaml_keep_string(orig)
    }
    # A secret flag and its value as two items of a list (YAML; JSON has its own).
    l = tolower(line)
    if (T_ARG && l ~ /^[ \t]*"([^"\\]|\\.)*",?[ \t\r]*$/) {
        PWV = (T_ARG == 2)
        kv("^[ \t]*" JSTR, "^[ \t]*", 1, 0)
        T_ARG = 0; PWV = 0
        return 1
    } else if (T_ARG && l ~ /^[ \t]*-[ \t]+[^- \t]/) {
        PWV = (T_ARG == 2)
        kv("^[ \t]*-[ \t]+.+", "^[ \t]*-[ \t]+", 1, 1)
        T_ARG = 0; PWV = 0
        return 1
    }
    T_ARG = (l ~ /^[ \t]*(-[ \t]+)?["\x27]?--[a-z0-9-]*(token|password|passwd|secret|certificate-key|api-key|apikey)["\x27]?,?[ \t\r]*$/)
    if (T_ARG && l ~ /(password|passwd)["\x27]?,?[ \t\r]*$/) T_ARG = 2
    # Environment variables with secret names, one field a line (YAML, or JSON in a log).
    if (T_ENV && l ~ /^[ \t]*value[ \t]*:[ \t]*[|>][-+0-9]*[ \t\r]*$/) {
        match(line, /^[ ]*/)
        T_BLOCK = RLENGTH
        T_BDONE = 0
        T_ENV = 0
    } else if (T_ENV && l ~ /^[ \t]*"value"[ \t]*:[ \t]*"/) {
        PWV = (T_ENV == 2)
        kv("^[ \t]*\"value\"[ \t]*:[ \t]*" JSTR, "^[ \t]*\"value\"[ \t]*:[ \t]*", 1, 0)
        T_ENV = 0; PWV = 0
    } else if (T_ENV && l ~ /^[ \t]*value[ \t]*:[ \t]*[^ \t]/) {
        PWV = (T_ENV == 2)
        kv("^[ \t]*value[ \t]*:[ \t]*.+", "^[ \t]*value[ \t]*:[ \t]*", 1, 1)
        T_ENV = 0; PWV = 0
    } else if (l ~ /^[ \t]*"name"[ \t]*:[ \t]*"[^"]*"[ \t]*,?[ \t\r]*$/ || l ~ /^[ \t]*(-[ \t]+)?name[ \t]*:[ \t]*[^ \t]+[ \t\r]*$/) {
        v = l
        sub(/^[^:]*:[ \t]*/, "", v)
        gsub(/["\x27, \t\r]/, "", v)
        T_ENV = (v ~ ENVNAME)
        if (T_ENV && v ~ (PWK "$")) T_ENV = 2
    } else if (l ~ /[{}]/ || l ~ /^[ \t]*-[ \t]/) {
        T_ENV = 0
    }
    return 1
}
# The text of a string (several lines): each line through tline, with a state of its own; a
# PEM block ends at the end of the string at the latest.
function tblock(s,   parts, k, i, out, first) {
    k = split(s, parts, "\n")
    tstate_reset()
    out = ""
    first = 1
    for (i = 1; i <= k; i++) {
        line = parts[i]
        if (tline()) { out = out (first ? "" : "\n") line; first = 0 }
    }
    tstate_reset()
    return out
}
# JSON: only the contents of strings change. jline(s, d) redacts one line of JSON at nesting
# depth d (a JSON document inside a string is depth d+1), with the key (JK, its separators
# removed; JP: it ends with the word pass or pwd), the env name (JN) and a pending secret flag
# (JA) of each depth.
function jline(s, d,   out, q, str) {
    out = ""
    while ((q = index(s, "\"")) > 0) {
        out = out jseg(substr(s, 1, q - 1), d)
        s = substr(s, q + 1)
        q = index(s, "\"")
        if (q > 0 && !index(substr(s, 1, q), "\\")) {
            str = substr(s, 1, q - 1)
            s = substr(s, q + 1)
        } else if (match(s, /^([^"\\]|\\.)*"/)) {
            str = substr(s, 1, RLENGTH - 1)
            s = substr(s, RLENGTH + 1)
        } else return out "\"" s
        if (s ~ /^[ \t\r]*:/) {
            JK[d] = tolower(str)
            # pass and pwd name a password only as a word of their own (REDIS_PASS, not bypass).
            JP[d] = (JK[d] ~ /[-_. ](pass|pwd)$/)
            gsub(/[-_. ]/, "", JK[d])
            out = out "\"" str "\""
        } else {
            out = out "\"" jval(str, d) "\""
        }
    }
    return out jseg(s, d)
}
# What is between strings: structure, or (in a string that only looked like JSON) free text.
function jseg(p, d,   saved) {
    if (p ~ /[{}]/) { JK[d] = ""; JP[d] = 0; JN[d] = ""; JA[d] = 0 }
    if (p ~ /[A-Za-z]/ && p !~ /^[^A-Za-z]*((true|false|null)[^A-Za-z]+)*(true|false|null)?[^A-Za-z]*$/) {
        saved = line
        line = p
        if (tolower(p) ~ GATE) { rules(); T_PEM = 0 }
        p = line
        line = saved
    }
    return p
}
function jval(str, d,   k, red, pw, lstr, dec, new) {
    k = JK[d]
    lstr = tolower(str)
    red = 0
    pw = 0
    if (JA[d]) { pw = (JA[d] == 2); JA[d] = 0; red = (substr(str, 1, 1) != "-") }
    else if (k != "" && (k ~ SKN || JP[d])) { red = 1; pw = (k ~ (PWK "$")) }
    else if (k == "value" && JN[d] ~ ENVNAME) { red = 1; pw = (JN[d] ~ (PWK "$")) }
    if (k == "name") JN[d] = lstr
    if (red && !keep_plain(lstr, pw) && !index(str, "[REDACTED")) { n++; return "[REDACTED]" }
    if (lstr ~ FLAG) JA[d] = (lstr ~ /(password|passwd)$/) ? 2 : 1
    if (lstr !~ GATE) return str
    dec = index(str, "\\") ? jdec(str) : str
    if (dec ~ /^[ \t\r\n]*[[{]/ && dec ~ /[]}][ \t\r\n]*$/) new = jtext(dec, d + 1)
    else new = tblock(dec)
    if (new == dec) return str
    return jenc(new)
}
function jtext(s, d,   parts, k, i, out) {
    k = split(s, parts, "\n")
    JK[d] = ""; JP[d] = 0; JN[d] = ""; JA[d] = 0
    out = ""
    for (i = 1; i <= k; i++) out = out (i > 1 ? "\n" : "") jline(parts[i], d)
    return out
}
# JSON string escapes to bytes; \uXXXX stays as SOH and its 4 hex digits, so that jenc gives
# back the same escape.
function jdec(s,   out, i, c) {
    out = ""
    while ((i = index(s, "\\")) > 0) {
        out = out substr(s, 1, i - 1)
        c = substr(s, i + 1, 1)
        if (c == "n") out = out "\n"
        else if (c == "t") out = out "\t"
        else if (c == "r") out = out "\r"
        else if (c == "b") out = out BS
        else if (c == "f") out = out FF
        else if (c == "u") { out = out SOH substr(s, i + 2, 4); s = substr(s, i + 6); continue }
        else out = out c
        s = substr(s, i + 2)
    }
    return out s
}
function jenc(s,   out, c) {
    out = ""
    while (match(s, JSPECIAL)) {
        out = out substr(s, 1, RSTART - 1)
        c = substr(s, RSTART, 1)
        s = substr(s, RSTART + 1)
        if (c == "\\") out = out "\\\\"
        else if (c == "\"") out = out "\\\""
        else if (c == "\n") out = out "\\n"
        else if (c == "\t") out = out "\\t"
        else if (c == "\r") out = out "\\r"
        else if (c == SOH && substr(s, 1, 4) ~ /^[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]$/) { out = out "\\u" substr(s, 1, 4); s = substr(s, 5) }
        else out = out sprintf("\\u%04x", CH[c])
    }
    return out s
}
BEGIN { init() }
mode == "json" { print jline($0, 0); next }
{ line = $0; if (tline()) print line }
END { print n > countfile }
'

json_strings() { awk "$AWK_JSON_LIB$AWK_STRINGS" "$@"; }

# redact IN OUT [json|text]: writes OUT and prints the number of redactions.
redact() {
    _cf="$TMPD/redact-count"
    echo 0 >"$_cf"
    if ! tr '\000' '?' <"$1" | awk -v countfile="$_cf" -v mode="${3:-text}" "$AWK_REDACT" >"$2"; then
        # A redactor that failed must never let the original through.
        : >"$2"
        echo 1
        return
    fi
    cat "$_cf"
}

# ---------------------------------------------------------------------------------------------
# Running one source: bounded in time and size, redacted, recorded.

# Timeouts: GNU timeout(1) when it is there, else a watchdog that kills the command's process
# group.
HAVE_TIMEOUT=0
# Only GNU's kills the command's whole process group (busybox's, for one, kills the command
# alone and leaves its children holding the output open).
if have timeout && timeout --version 2>/dev/null | grep -q 'GNU coreutils' && timeout -k 1 5 sleep 0 >/dev/null 2>&1; then
    HAVE_TIMEOUT=1
fi

PHASE=count     # count | print | run
STEP_N=0
TOTAL=0
COUNTED=0
CHILD=""
WATCH=""
INTERRUPTED=0
LOGS_PLANNED=0
LOGS_OVER=0
STEP_FIXED=""
PAR_JOB=0
S_TIMEOUT=""
STEP_TO=$TIMEOUT_S
DEADLINE_MS=$(($(now_ms) + MAX_TIME_S * 1000))
CLUSTER_SKIP=""
IN_CLUSTER=0
LISTS_OK=0
LISTS_DENIED=0
LISTS_FAILED=0
JOB_PIDS=""

# access_denied FILE: whether a failed command said it was not allowed, in the words kubectl,
# gcloud and the node's tools use (never a bare number: 403 is also in timestamps).
access_denied() {
    grep -qE 'Error from server \(Forbidden\)|is forbidden:|\(Forbidden\)|You must be logged in|\(Unauthorized\)|PERMISSION_DENIED|code=403|[Pp]ermission denied|does not have [a-z.]* ?permission|Required "[^"]*" permission' "$1" 2>/dev/null
}

on_interrupt() {
    if [ "$INTERRUPTED" = 1 ]; then
        printf '\ncollect-bundle: interrupted twice, stopping without a bundle\n' >&2
        [ -s "$TMPD/tpid" ] && kill -KILL "$(cat "$TMPD/tpid")" 2>/dev/null
        [ -n "$CHILD" ] && kill -KILL -- -"$CHILD" 2>/dev/null
        [ -n "$WATCH" ] && kill -KILL -- -"$WATCH" 2>/dev/null
        for _p in $JOB_PIDS; do kill -KILL "$_p" 2>/dev/null; done
        # What the log jobs started: timeout(1) and the process group of each command.
        for _s in "$TMPD"/jobs/*; do
            [ -s "$_s/tpid" ] && kill -KILL "$(cat "$_s/tpid")" 2>/dev/null
            [ -s "$_s/cpid" ] && kill -KILL -- -"$(cat "$_s/cpid")" 2>/dev/null
        done
        [ -n "${TMPD:-}" ] && rm -rf "$TMPD"
        [ -n "${WORK:-}" ] && rm -rf "$WORK"
        exit 130
    fi
    INTERRUPTED=1
    printf '\ncollect-bundle: interrupted: finishing the bundle with what was collected (interrupt again to abandon it)\n' >&2
    for _p in $JOB_PIDS; do kill -TERM "$_p" 2>/dev/null; done
    [ -s "$TMPD/tpid" ] && kill -TERM "$(cat "$TMPD/tpid")" 2>/dev/null
    [ -n "$CHILD" ] && kill -TERM -- -"$CHILD" 2>/dev/null
}

# limit_stream MODE CAP OUT: keeps CAP+1 bytes of stdin (head: the first; tail: the last) and
# drains the rest, so that the producer never dies of a closed pipe.
limit_stream() {
    if [ "$1" = tail ]; then
        tail -c "$(($2 + 1))" >"$3"
    else
        head -c "$(($2 + 1))" >"$3"
        cat >/dev/null
    fi
}

# bounded FN MODE CAP ARGV...: runs ARGV (or shell function FN with ARGV) with stdout limited
# into $TMPD/out and stderr into $TMPD/err. Sets RC and TIMED_OUT.
bounded() {
    _fn=$1 _mode=$2 _cap=$3
    shift 3
    rm -f "$TMPD/rc" "$TMPD/timedout" "$TMPD/out" "$TMPD/err" "$TMPD/tpid" "$TMPD/cpid"
    : >"$TMPD/err"
    TIMED_OUT=0
    _wait=$STEP_TO
    set -m
    if [ -z "$_fn" ] && [ "$HAVE_TIMEOUT" = 1 ]; then
        # timeout(1) puts itself in a process group of its own: its pid is kept (exec keeps
        # the pid of the shell that writes it) so that an interrupt can reach it. The watchdog
        # below stays as a backstop, for what timeout cannot reach.
        (
            "$BASH" -c 'echo "$$" >"$0"; exec "$@"' "$TMPD/tpid" timeout -k 5 "$STEP_TO" "$@" </dev/null 2>"$TMPD/err" |
                limit_stream "$_mode" "$_cap" "$TMPD/out"
            echo "${PIPESTATUS[0]}" >"$TMPD/rc"
        ) &
        _wait=$((STEP_TO + 15))
    elif [ -n "$_fn" ]; then
        (
            "$_fn" "$@" </dev/null 2>"$TMPD/err" | limit_stream "$_mode" "$_cap" "$TMPD/out"
            echo "${PIPESTATUS[0]}" >"$TMPD/rc"
        ) &
    else
        (
            "$@" </dev/null 2>"$TMPD/err" | limit_stream "$_mode" "$_cap" "$TMPD/out"
            echo "${PIPESTATUS[0]}" >"$TMPD/rc"
        ) &
    fi
    CHILD=$!
    echo "$CHILD" >"$TMPD/cpid"
    # The watchdog: kills the whole process group of the command and of its output limiter.
    (
        sleep "$_wait"
        : >"$TMPD/timedout"
        kill -TERM -- -"$CHILD" 2>/dev/null
        sleep 5
        kill -KILL -- -"$CHILD" 2>/dev/null
    ) </dev/null >/dev/null 2>&1 &
    WATCH=$!
    set +m
    wait "$CHILD" 2>/dev/null
    kill -TERM -- -"$WATCH" 2>/dev/null
    wait "$WATCH" 2>/dev/null
    WATCH=""
    CHILD=""
    RC=$(cat "$TMPD/rc" 2>/dev/null)
    case "$RC" in
        '' | *[!0-9]*) RC=143 ;;
    esac
    if [ -f "$TMPD/timedout" ]; then
        TIMED_OUT=1
        RC=124
    elif [ -z "$_fn" ] && [ "$HAVE_TIMEOUT" = 1 ]; then
        case "$RC" in
            124 | 137) TIMED_OUT=1 ;;
        esac
    fi
    [ -f "$TMPD/out" ] || : >"$TMPD/out"
}

# Shown on the terminal and in --dry-run: argv with quotes where needed.
show_argv() {
    _sq="'" _sq_esc="'\\''"
    _out=""
    for _a in "$@"; do
        case "$_a" in
            '' | *[!A-Za-z0-9_./:=@,+-]*)
                _a=${_a//$_sq/$_sq_esc}
                _a="'$_a'"
                ;;
        esac
        _out="$_out${_out:+ }$_a"
    done
    printable "$_out"
}

# The progress label: argv without kubectl's connection flags, cut to a line's width.
show_label() {
    if [ "$1" = kubectl ] && [ "$#" -ge "${#KUBECTL[@]}" ]; then
        _same=1
        _i=0
        for _a in "$@"; do
            [ "$_i" -lt "${#KUBECTL[@]}" ] || break
            [ "$_a" = "${KUBECTL[$_i]}" ] || _same=0
            _i=$((_i + 1))
        done
        if [ "$_same" = 1 ]; then
            shift "${#KUBECTL[@]}"
            set -- kubectl "$@"
        fi
    fi
    _l=$(show_argv "$@")
    [ "${#_l}" -le 110 ] || _l="${_l:0:107}..."
    printf '%s' "$_l"
}

# record PATH STARTED RC DURATION BYTES REDACTIONS TRUNCATED BOUND ERROR STDERR-FILE ARGV...
record() {
    _rp=$1 _rs=$2 _rc=$3 _rd=$4 _rb=$5 _rr=$6 _rt=$7 _rbound=$8 _rerr=$9 _rfile=${10}
    shift 10
    R_PATH=$_rp R_STARTED=$_rs R_BOUND=$_rbound R_ERROR=$_rerr R_STDERR_FILE=$_rfile \
        awk -v rc="$_rc" -v dur="$_rd" -v bytes="$_rb" -v red="$_rr" -v trunc="$_rt" \
        "$AWK_JSON_LIB$AWK_RECORD" "$@" >>"$SOURCES"
    R_ATTEMPTS=""
}
export R_ATTEMPTS=""

# Options of the next `step` (reset after each).
S_FN=""
S_FILTER=""
S_RETRY=""
S_SINCE=""
S_DEST=""

# step KIND PATH ARGV...: one source. KIND: json, text (both keep the first --max-bytes), log
# (keeps the newest --log-bytes). S_FN runs a shell function instead of ARGV[0] (ARGV is still
# what is recorded); S_FILTER post-processes stdout; S_RETRY may ask for another attempt;
# S_DEST writes the output there instead of PATH (a part of a file made of several sources).
step() {
    _kind=$1 _rel=$2
    shift 2
    _fn=$S_FN _filter=$S_FILTER _retry=$S_RETRY _since=$S_SINCE _dest=$S_DEST
    S_FN="" S_FILTER="" S_RETRY="" S_SINCE="" S_DEST=""
    _s_timeout=$S_TIMEOUT
    S_TIMEOUT=""
    case "$PHASE" in
        count)
            COUNTED=$((COUNTED + 1))
            return 0
            ;;
        print)
            printf '  %s\n      > %s\n' "$(show_argv "$@")" "$(printable "$_rel")"
            return 0
            ;;
    esac
    if [ -n "$STEP_FIXED" ]; then
        STEP_N=$STEP_FIXED
    else
        STEP_N=$((STEP_N + 1))
    fi
    [ "$STEP_N" -le "$TOTAL" ] || TOTAL=$STEP_N
    _cap=$MAX_BYTES _lmode=head _keep=first
    if [ "$_kind" = log ]; then
        _cap=$LOG_BYTES _lmode=tail _keep=newest
    fi
    _bound="{\"timeout_s\": $TIMEOUT_S, \"max_bytes\": $_cap, \"keep\": \"$_keep\""
    [ -z "$_since" ] || _bound="$_bound, \"since\": \"$SINCE_OPT\""
    _bound="$_bound}"
    _out="$BUNDLE/$_rel"
    [ -z "$_dest" ] || _out=$_dest
    _started=$(utc_now)
    # Parallel jobs print their line whole when they end, so that lines never mix.
    _prefix=$(printf '[%d/%d] %s ... ' "$STEP_N" "$TOTAL" "$(show_label "$@")")
    [ "$PAR_JOB" = 1 ] || printf '%s' "$_prefix" >&2
    [ "$PAR_JOB" = 1 ] || _prefix=""
    if [ "$INTERRUPTED" = 1 ]; then
        : >"$TMPD/err"
        record "$_rel" "$_started" 130 0 0 0 0 "$_bound" "skipped: the collection was interrupted" "$TMPD/err" "$@"
        printf '%sskipped (interrupted)\n' "$_prefix" >&2
        return 1
    fi
    if [ -n "$CLUSTER_SKIP" ] && [ "$IN_CLUSTER" = 1 ]; then
        : >"$TMPD/err"
        record "$_rel" "$_started" 0 0 0 0 0 "$_bound" "skipped: $CLUSTER_SKIP" "$TMPD/err" "$@"
        printf '%sskipped (%s)\n' "$_prefix" "$(printable "$CLUSTER_SKIP")" >&2
        return 1
    fi
    if [ -z "$_fn" ] && ! have "$1"; then
        : >"$TMPD/err"
        record "$_rel" "$_started" 127 0 0 0 0 "$_bound" "skipped: $1 is not installed (not found on PATH)" "$TMPD/err" "$@"
        printf '%smissing (%s not installed)\n' "$_prefix" "$(printable "$1")" >&2
        return 1
    fi
    # The time limit of this command: --timeout, or what is left of --max-time.
    _left=$(((DEADLINE_MS - $(now_ms)) / 1000))
    if [ "$_left" -lt 1 ]; then
        : >"$TMPD/err"
        record "$_rel" "$_started" 0 0 0 0 0 "$_bound" "skipped: the --max-time of $MAX_TIME_OPT was reached" "$TMPD/err" "$@"
        printf '%sskipped (--max-time reached)\n' "$_prefix" >&2
        return 1
    fi
    STEP_TO=$TIMEOUT_S
    [ -z "$_s_timeout" ] || [ "$_s_timeout" -ge "$STEP_TO" ] || STEP_TO=$_s_timeout
    _by_deadline=0
    if [ "$_left" -lt "$STEP_TO" ]; then
        STEP_TO=$_left
        _by_deadline=1
    fi
    _t0=$(now_ms)
    R_ATTEMPTS=""
    while :; do
        bounded "$_fn" "$_lmode" "$_cap" "$@"
        if [ "$RC" != 0 ] && [ "$TIMED_OUT" = 0 ] && [ -n "$_retry" ] && [ "$INTERRUPTED" = 0 ] && "$_retry" "$@"; then
            # The retry function set RETRY_ARGV: keep this attempt in the record.
            tail -c 2048 "$TMPD/err" | tr '\000' '?' >"$TMPD/err.trim"
            redact "$TMPD/err.trim" "$TMPD/err.red" >/dev/null
            _att=$(R_STDERR_FILE="$TMPD/err.red" awk -v rc="$RC" "$AWK_JSON_LIB$AWK_ATTEMPT" "$@")
            R_ATTEMPTS="$R_ATTEMPTS${R_ATTEMPTS:+, }$_att"
            set -- "${RETRY_ARGV[@]}"
            _retry=""
            continue
        fi
        break
    done
    _t1=$(now_ms)
    _dur=$((_t1 - _t0))
    [ "$_dur" -ge 0 ] || _dur=0

    # Size bound: cut what is over, at a line boundary for logs.
    _trunc=0
    _raw="$TMPD/out"
    if [ "$(file_size "$_raw")" -gt "$_cap" ]; then
        _trunc=1
        if [ "$_lmode" = tail ]; then
            tail -c "$_cap" "$_raw" | sed '1d' >"$TMPD/out.cut"
        else
            head -c "$_cap" "$_raw" >"$TMPD/out.cut"
        fi
        _raw="$TMPD/out.cut"
    fi
    if [ -n "$_filter" ] && [ "$RC" = 0 ]; then
        "$_filter" <"$_raw" >"$TMPD/out.filtered" 2>/dev/null
        _raw="$TMPD/out.filtered"
    fi

    # Redact what is kept (stdout and the stderr that goes into the manifest).
    _red=0
    _keep_file=1
    if [ "$RC" != 0 ] && { [ "$_kind" = json ] || [ ! -s "$_raw" ]; }; then
        # A failed command's JSON is not a document; an empty output is not data.
        _keep_file=0
    fi
    if [ "$_keep_file" = 1 ]; then
        mkdir -p "$(dirname "$_out")"
        _rmode=text
        case "$_kind:$_rel" in json:* | *:*.json) _rmode=json ;; esac
        _red=$(redact "$_raw" "$_out" "$_rmode")
    fi
    _errtrim="$TMPD/err.trim"
    if [ "$(file_size "$TMPD/err")" -gt 2048 ]; then
        { printf '[...] '; tail -c 2048 "$TMPD/err"; } | tr '\000' '?' >"$_errtrim"
    else
        tr '\000' '?' <"$TMPD/err" >"$_errtrim"
    fi
    if [ -s "$_errtrim" ]; then
        _ered=$(redact "$_errtrim" "$TMPD/err.red")
        _red=$((_red + _ered))
    else
        : >"$TMPD/err.red"
    fi
    _bytes=0
    if [ "$_keep_file" = 1 ] && [ "$(file_size "$_out")" -gt "$_cap" ]; then
        # Redaction markers can be longer than what they replace: the bound still holds.
        _trunc=1
        if [ "$_lmode" = tail ]; then
            tail -c "$_cap" "$_out" | sed '1d' >"$TMPD/out.recut"
        else
            head -c "$_cap" "$_out" >"$TMPD/out.recut"
        fi
        mv "$TMPD/out.recut" "$_out"
    fi
    [ "$_keep_file" = 0 ] || _bytes=$(file_size "$_out")

    _error=""
    _word="ok"
    if [ "$TIMED_OUT" = 1 ]; then
        _error="timed out after ${STEP_TO}s"
        [ "$_by_deadline" = 0 ] || _error="$_error (the --max-time deadline)"
        _word="timed out"
    elif [ "$RC" != 0 ]; then
        if access_denied "$TMPD/err.red"; then
            _error="command failed: access denied"
            _word="forbidden (exit $RC)"
        else
            _error="command failed"
            _word="failed (exit $RC)"
        fi
        [ "$INTERRUPTED" = 0 ] || { _error="interrupted"; _word="interrupted"; }
    fi
    [ "$_trunc" = 0 ] || _word="$_word, truncated"
    record "$_rel" "$_started" "$RC" "$_dur" "$_bytes" "$_red" "$_trunc" "$_bound" "$_error" "$TMPD/err.red" "$@"
    printf '%s%s %d.%ds\n' "$_prefix" "$_word" $((_dur / 1000)) $((_dur % 1000 / 100)) >&2
    if [ "$IN_CLUSTER" = 1 ] && [ "$_kind" = json ]; then
        case "$_error" in
            '') LISTS_OK=$((LISTS_OK + 1)) ;;
            *'access denied') LISTS_DENIED=$((LISTS_DENIED + 1)) ;;
            *) LISTS_FAILED=$((LISTS_FAILED + 1)) ;;
        esac
    fi
    [ "$RC" = 0 ]
}

# skip_source PATH REASON ARGV...: a source that is not run at all, recorded with why.
skip_source() {
    case "$PHASE" in
        count | print)
            [ "$PHASE" = count ] && COUNTED=$((COUNTED + 1))
            [ "$PHASE" = print ] && printf '  (skipped) %s\n' "$(printable "$2")"
            return 0
            ;;
    esac
    _rel=$1 _why=$2
    shift 2
    STEP_N=$((STEP_N + 1))
    [ "$STEP_N" -le "$TOTAL" ] || TOTAL=$STEP_N
    : >"$TMPD/err"
    record "$_rel" "$(utc_now)" 0 0 0 0 0 "{\"timeout_s\": $TIMEOUT_S}" "skipped: $_why" "$TMPD/err" "$@"
    printf '[%d/%d] %s ... skipped: %s\n' "$STEP_N" "$TOTAL" "$(show_label "$@")" "$(printable "$_why")" >&2
}

# ---------------------------------------------------------------------------------------------
# Cluster side

KUBECTL=(kubectl)
[ -z "$KUBECONFIG_OPT" ] || KUBECTL+=(--kubeconfig "$KUBECONFIG_OPT")
[ -z "$CONTEXT_OPT" ] || KUBECTL+=(--context "$CONTEXT_OPT")
KUBECTL+=("--request-timeout=${TIMEOUT_S}s")

CTX_NAME=""
CTX_CLUSTER=""
GKE=0
GKE_PROJECT=""
GKE_CLUSTER=""
GKE_LOCATION=""

JP_PODS='{range .items[*]}{.metadata.namespace}{"\t"}{.metadata.name}{"\t"}{.status.phase}{"\t"}{range .status.conditions[?(@.type=="Ready")]}{.status}{end}{"\t"}{range .spec.initContainers[*]}{.name}{" "}{end}{"\t"}{range .spec.containers[*]}{.name}{" "}{end}{"\t"}{range .status.initContainerStatuses[*]}{.name}{"="}{.restartCount}{" "}{end}{range .status.containerStatuses[*]}{.name}{"="}{.restartCount}{" "}{end}{"\n"}{end}'
JP_KSA='{range .items[*]}{.metadata.namespace}{"\t"}{.metadata.name}{"\t"}{.metadata.annotations.iam\.gke\.io/gcp-service-account}{"\n"}{end}'
JP_NAMES='{range .items[*]}{.metadata.name}{"\n"}{end}'
JP_ITEMS='{range .items[*]}{@}{"\n"}{end}'
JP_CONTEXT='{.current-context}{"\t"}{.contexts[0].context.cluster}{"\n"}'

# Reads the current context (local: kubectl config never calls the cluster).
read_context() {
    _line=$("${KUBECTL[@]}" config view --minify -o "jsonpath=$JP_CONTEXT" 2>/dev/null </dev/null) || _line=""
    CTX_NAME=$(printf '%s' "$_line" | awk -F '\t' 'NR == 1 { print $1 }')
    CTX_CLUSTER=$(printf '%s' "$_line" | awk -F '\t' 'NR == 1 { print $2 }')
    [ -n "$CTX_NAME" ] || CTX_NAME=$CONTEXT_OPT
}

# GKE: from the options, else from a gke_PROJECT_LOCATION_CLUSTER context name.
detect_gke() {
    GKE_PROJECT=$PROJECT_OPT GKE_LOCATION=$LOCATION_OPT GKE_CLUSTER=$CLUSTER_OPT
    case "$CTX_NAME" in
        gke_*_*_*)
            _rest=${CTX_NAME#gke_}
            [ -n "$GKE_PROJECT" ] || GKE_PROJECT=${_rest%%_*}
            _rest=${_rest#*_}
            [ -n "$GKE_LOCATION" ] || GKE_LOCATION=${_rest%%_*}
            [ -n "$GKE_CLUSTER" ] || GKE_CLUSTER=${_rest#*_}
            ;;
    esac
    GKE=0
    if [ -n "$GKE_PROJECT" ] && [ -n "$GKE_CLUSTER" ] && [ -n "$GKE_LOCATION" ]; then
        GKE=1
    elif [ -n "$PROJECT_OPT$CLUSTER_OPT$LOCATION_OPT" ]; then
        die_usage "a GKE cluster needs --project, --cluster and --location (the context name '$(printable "$CTX_NAME")' does not provide them)"
    fi
}

# Names listed one a line by a discovery source, or nothing when it failed.
discovered() { [ -s "$BUNDLE/collector/$1" ] && cat "$BUNDLE/collector/$1"; }

# The probe: one quick call that needs the network path, the server and accepted credentials.
# When it fails for one of these reasons the other kubectl sources are recorded as skipped
# rather than each waiting for its own timeout. It gets a tenth of --max-time, at least 5 s
# (a login through an exec plugin takes a few) and at most 20 s (or --timeout when shorter).
PROBE_TIMEOUT=$((MAX_TIME_S / 10))
[ "$PROBE_TIMEOUT" -ge 5 ] || PROBE_TIMEOUT=5
[ "$PROBE_TIMEOUT" -le 20 ] || PROBE_TIMEOUT=20
OUTCOME=0
OUTCOME_LINE=""
PROBE_OK=0
probe_cluster() {
    S_TIMEOUT=$PROBE_TIMEOUT
    if step json kubectl/version.json "${KUBECTL[@]}" version -o json; then
        [ "$PHASE" != run ] || PROBE_OK=1
        return 0
    fi
    [ "$PHASE" = run ] || return 0
    _ctx=$(printable "${CTX_NAME:-the current context}")
    _why=$(grep -v '^[[:space:]]*$' "$TMPD/err.red" 2>/dev/null | tail -n 1)
    _why=$(printable "${_why:0:160}")
    if ! have kubectl; then
        OUTCOME=3
        CLUSTER_SKIP="kubectl is not installed (not found on PATH)"
        OUTCOME_LINE="kubectl is not installed (not found on PATH): install kubectl and rerun, or collect a node with --node"
    elif grep -qE 'You must be logged in|\(Unauthorized\)|provide credentials|getting credentials|gke-gcloud-auth-plugin|[Rr]eauthentication|token has expired|invalid_grant|exec plugin|refresh token' "$TMPD/err.red" 2>/dev/null; then
        OUTCOME=5
        CLUSTER_SKIP="the cluster refused the credentials (kubectl version failed)"
        OUTCOME_LINE="the cluster of $_ctx refused the credentials ($_why): log in again (GKE: gcloud auth login, then gcloud container clusters get-credentials) or choose another --context"
    elif [ "$TIMED_OUT" = 1 ] || grep -qE 'Unable to connect to the server|connection to the server .* was refused|no such host|i/o timeout|connection refused|network is unreachable|no route to host|TLS handshake timeout|Client.Timeout|context deadline exceeded|dial tcp' "$TMPD/err.red" 2>/dev/null; then
        OUTCOME=4
        CLUSTER_SKIP="the cluster could not be reached (kubectl version failed)"
        [ "$TIMED_OUT" = 0 ] || _why="no answer within ${STEP_TO}s"
        OUTCOME_LINE="cannot reach the cluster of $_ctx ($_why): check the VPN or the network path to the API server, or choose the cluster with --context or --kubeconfig"
    elif grep -qE 'context ".*" does not exist|no configuration has been provided|invalid configuration|cluster has no server defined' "$TMPD/err.red" 2>/dev/null; then
        OUTCOME=4
        CLUSTER_SKIP="kubectl has no usable cluster configuration"
        OUTCOME_LINE="kubectl has no usable cluster configuration ($_why): name one with --kubeconfig FILE and --context NAME (kubectl config get-contexts lists them)"
    fi
    return 0
}

plan_cluster_discovery() {
    probe_cluster
    IN_CLUSTER=1
    step text collector/namespaces.txt "${KUBECTL[@]}" get namespaces -o "jsonpath=$JP_NAMES"
    step text collector/pods.tsv "${KUBECTL[@]}" get pods --all-namespaces -o "jsonpath=$JP_PODS"
    step text collector/serviceaccounts.tsv "${KUBECTL[@]}" get serviceaccounts --all-namespaces -o "jsonpath=$JP_KSA"
    IN_CLUSTER=0
}

# Joins per-namespace item lines (one JSON object a line) into one List document.
items_to_list() {
    awk 'BEGIN { printf "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [" }
         NF { printf "%s%s", (n++ ? ",\n" : "\n"), $0 }
         END { printf "\n]}\n" }'
}

plan_cluster() {
    IN_CLUSTER=1
    for _r in nodes pods events serviceaccounts networkpolicies daemonsets deployments roles rolebindings; do
        if [ "$_r" = nodes ]; then
            step json kubectl/nodes.json "${KUBECTL[@]}" get nodes -o json
        else
            step json "kubectl/$_r.json" "${KUBECTL[@]}" get "$_r" --all-namespaces -o json
        fi
    done
    step json kubectl/clusterroles.json "${KUBECTL[@]}" get clusterroles -o json
    step json kubectl/clusterrolebindings.json "${KUBECTL[@]}" get clusterrolebindings -o json

    # ConfigMaps of kube-system and of the Istio namespaces, joined into one list.
    _cm_ns="kube-system"
    if [ "$PHASE" = print ]; then
        _cm_ns="kube-system istio-system"
    else
        for _ns in $(discovered namespaces.txt); do
            case "$_ns" in
                istio* | asm-* | *-asm | gke-asm*) _cm_ns="$_cm_ns $_ns" ;;
            esac
        done
    fi
    # Each namespace is its own source (recorded under the joined file's path); their items
    # (one JSON object a line) are joined into one list.
    : >"$TMPD/cm-items" 2>/dev/null
    _cm_ok=0
    for _ns in $_cm_ns; do
        S_DEST="$TMPD/cm-part"
        if step text kubectl/configmaps.json "${KUBECTL[@]}" get configmaps -n "$_ns" -o "jsonpath=$JP_ITEMS"; then
            cat "$TMPD/cm-part" >>"$TMPD/cm-items" 2>/dev/null
            _cm_ok=1
        fi
        rm -f "$TMPD/cm-part"
    done
    if [ "$PHASE" = run ] && [ "$_cm_ok" = 1 ]; then
        mkdir -p "$BUNDLE/kubectl"
        items_to_list <"$TMPD/cm-items" >"$BUNDLE/kubectl/configmaps.json"
    fi
    plan_logs
    IN_CLUSTER=0
}

# Container logs, most telling first: pods that are not Ready, then crash-looping ones (any
# restart), then the system pods of kube-system and of the platform (GKE, Istio, the CNI).
# Pods of other namespaces that finished (Succeeded) are left out. In the run phase the logs
# are collected --parallel at a time (run_log_jobs); each keeps its place in the manifest.
SYSTEM_NS_RE='^(kube-system|gke-.*|gmp-.*|istio-system|kube-flannel|calico-system|tigera-operator|cilium.*)$'
plan_logs() {
    if [ "$PHASE" = print ]; then
        step log "kubectl/logs/<namespace>/<pod>/<container>.log" "${KUBECTL[@]}" logs -n "<namespace>" "<pod>" -c "<container>" --timestamps "--since=${SINCE_S}s" "--tail=$((LOG_BYTES / 40 + 1000))"
        step log "kubectl/logs/<namespace>/<pod>/<container>.previous.log" "${KUBECTL[@]}" logs -n "<namespace>" "<pod>" -c "<container>" --previous --timestamps "--since=${SINCE_S}s" "--tail=$((LOG_BYTES / 40 + 1000))"
        printf '      (pods not Ready first, then crash-looping pods, then kube-system and the platform'"'"'s system pods; --previous where a container restarted; %s at a time)\n' "$PARALLEL"
        return 0
    fi
    [ -s "$BUNDLE/collector/pods.tsv" ] || return 0
    LOGS_PLANNED=0
    LOGS_OVER=0
    : >"$TMPD/log-jobs"
    awk -F '\t' -v OFS='\t' -v sys="$SYSTEM_NS_RE" '
        { for (i = 1; i <= 7; i++) if ($i == "") $i = "-" }
        { restarts = 0; k = split($7, r, " "); for (i = 1; i <= k; i++) { sub(/^[^=]*=/, "", r[i]); if (r[i] + 0 > 0) restarts = 1 } }
        $3 != "Succeeded" && $4 != "True" { t1[++n1] = $0; next }
        $3 != "Succeeded" && restarts { t2[++n2] = $0; next }
        $1 ~ sys { t3[++n3] = $0 }
        END {
            for (i = 1; i <= n1; i++) print t1[i]
            for (i = 1; i <= n2; i++) print t2[i]
            for (i = 1; i <= n3; i++) print t3[i]
        }' "$BUNDLE/collector/pods.tsv" >"$TMPD/log-pods"
    while IFS="$(printf '\t')" read -r _ns _pod _phase _ready _inits _ctrs _restarts; do
        if [ -z "$_ns" ] || [ -z "$_pod" ]; then continue; fi
        for _c in $_inits $_ctrs; do
            [ "$_c" != "-" ] || continue
            _dir="kubectl/logs/$(safe_name "$_ns")/$(safe_name "$_pod")"
            _cn=$(safe_name "$_c")
            log_step "$_dir/$_cn.log" "$_ns" "$_pod" "$_c"
            case " $_restarts " in
                *" $_c=0 "* | *" $_c= "*) ;;
                *" $_c="*) log_step "$_dir/$_cn.previous.log" "$_ns" "$_pod" "$_c" --previous ;;
            esac
        done
    done <"$TMPD/log-pods"
    [ "$PHASE" != run ] || run_log_jobs
    if [ "$LOGS_OVER" -gt 0 ]; then
        skip_source kubectl/logs "$LOGS_OVER more container logs over --max-logs $MAX_LOGS" "${KUBECTL[@]}" logs
    fi
}

log_step() {
    if [ "$LOGS_PLANNED" -ge "$MAX_LOGS" ]; then
        LOGS_OVER=$((LOGS_OVER + 1))
        return 0
    fi
    LOGS_PLANNED=$((LOGS_PLANNED + 1))
    if [ "$PHASE" = run ]; then
        # One job a line: path, namespace, pod, container, and --previous or "-".
        printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:--}" >>"$TMPD/log-jobs"
        return 0
    fi
    _lp=$1
    shift
    S_SINCE=1
    step log "$_lp" "${KUBECTL[@]}" logs -n "$1" "$2" -c "$3" ${4:+"$4"} --timestamps "--since=${SINCE_S}s" "--tail=$((LOG_BYTES / 40 + 1000))"
}

# POLL: how long to wait between looks at the running jobs (whole seconds where sleep takes
# no fraction).
POLL=1
if sleep 0.1 2>/dev/null; then POLL=0.1; fi

# log_job SLOT N PATH NAMESPACE POD CONTAINER [--previous]: one log, run in the background
# with the temporary files and the manifest record of its own folder.
log_job() {
    trap 'INTERRUPTED=1; [ -s "$TMPD/tpid" ] && kill -TERM "$(cat "$TMPD/tpid")" 2>/dev/null; [ -n "$CHILD" ] && kill -TERM -- -"$CHILD" 2>/dev/null' INT TERM
    TMPD=$1
    SOURCES="$1/record"
    STEP_FIXED=$2
    PAR_JOB=1
    : >"$SOURCES"
    S_SINCE=1
    step log "$3" "${KUBECTL[@]}" logs -n "$4" "$5" -c "$6" ${7:+"$7"} --timestamps "--since=${SINCE_S}s" "--tail=$((LOG_BYTES / 40 + 1000))"
    : >"$1/done"
}

# run_log_jobs: the jobs of $TMPD/log-jobs, at most --parallel at a time, each in a folder of
# its own under $TMPD/jobs (its own temporary files and manifest record); the records are
# added in the order of the jobs once all have ended.
run_log_jobs() {
    [ -s "$TMPD/log-jobs" ] || return 0
    _jobs_dir="$TMPD/jobs"
    mkdir -p "$_jobs_dir"
    _jn=0
    _running=""
    _tab=$(printf '\t')
    while IFS="$_tab" read -r _lp _ns _pod _c _prev; do
        _jn=$((_jn + 1))
        STEP_N=$((STEP_N + 1))
        [ "$STEP_N" -le "$TOTAL" ] || TOTAL=$STEP_N
        # Wait for a free place.
        while :; do
            _still=""
            _count=0
            for _j in $_running; do
                if [ -f "$_jobs_dir/$_j/done" ]; then
                    wait "$(cat "$_jobs_dir/$_j/pid" 2>/dev/null)" 2>/dev/null
                else
                    _still="$_still $_j"
                    _count=$((_count + 1))
                fi
            done
            _running=$_still
            [ "$_count" -ge "$PARALLEL" ] || break
            sleep "$POLL"
        done
        _slot="$_jobs_dir/$_jn"
        mkdir -p "$_slot"
        [ "$_prev" != "-" ] || _prev=""
        log_job "$_slot" "$STEP_N" "$_lp" "$_ns" "$_pod" "$_c" "$_prev" </dev/null &
        echo "$!" >"$_slot/pid"
        JOB_PIDS="$JOB_PIDS $!"
        _running="$_running $_jn"
    done <"$TMPD/log-jobs"
    for _j in $_running; do
        while [ ! -f "$_jobs_dir/$_j/done" ]; do
            kill -0 "$(cat "$_jobs_dir/$_j/pid" 2>/dev/null)" 2>/dev/null || break
            sleep "$POLL"
        done
        wait "$(cat "$_jobs_dir/$_j/pid" 2>/dev/null)" 2>/dev/null
    done
    JOB_PIDS=""
    _j=1
    while [ "$_j" -le "$_jn" ]; do
        cat "$_jobs_dir/$_j/record" >>"$SOURCES" 2>/dev/null
        _j=$((_j + 1))
    done
    rm -rf "$_jobs_dir"
}

# gcloud: older releases know --zone/--region but not --location.
RETRY_ARGV=()
retry_location() {
    grep -q 'unrecognized arguments: --location' "$TMPD/err" 2>/dev/null || return 1
    RETRY_ARGV=()
    for _a in "$@"; do
        case "$_a" in
            --location=*)
                _loc=${_a#--location=}
                case "$_loc" in
                    *-*-*) _a="--zone=$_loc" ;;
                    *) _a="--region=$_loc" ;;
                esac
                ;;
        esac
        RETRY_ARGV+=("$_a")
    done
    return 0
}

# A service-account email safe to use as a folder name and a gcloud argument.
valid_gsa() {
    case "$1" in
        *[!A-Za-z0-9._@-]* | .* | -* | *..* | *@*@* | @* | *@) return 1 ;;
        *@*.*) return 0 ;;
    esac
    return 1
}

plan_gke() {
    _p=$GKE_PROJECT _l=$GKE_LOCATION _c=$GKE_CLUSTER
    if [ "$NO_GCLOUD" = 1 ]; then
        skip_source gcloud/cluster.json "--no-gcloud was given" gcloud container clusters describe "$_c"
        return 0
    fi
    S_RETRY=retry_location
    step json gcloud/cluster.json gcloud container clusters describe "$_c" "--location=$_l" "--project=$_p" --format=json --quiet
    S_RETRY=retry_location
    step json gcloud/nodepools.json gcloud container node-pools list "--cluster=$_c" "--location=$_l" "--project=$_p" --format=json --quiet
    step json gcloud/project.json gcloud projects describe "$_p" --format=json --quiet
    step json gcloud/project-iam-policy.json gcloud projects get-iam-policy "$_p" --format=json --quiet
    step json gcloud/services-enabled.json gcloud services list --enabled "--project=$_p" --format=json --quiet
    S_RETRY=retry_location
    step json gcloud/operations.json gcloud container operations list "--location=$_l" "--project=$_p" --sort-by=~startTime --limit=100 --format=json --quiet
    if [ "$PHASE" = print ]; then
        step json "gcloud/service-accounts/<gsa-email>/iam-policy.json" gcloud iam service-accounts get-iam-policy "<gsa-email>" --format=json --quiet
        printf '      (for every GSA named by a iam.gke.io/gcp-service-account annotation)\n'
        return 0
    fi
    [ -s "$BUNDLE/collector/serviceaccounts.tsv" ] || return 0
    awk -F '\t' 'NF >= 3 && $3 != "" { print $3 }' "$BUNDLE/collector/serviceaccounts.tsv" | sort -u >"$TMPD/gsas"
    while IFS= read -r _gsa; do
        if valid_gsa "$_gsa"; then
            step json "gcloud/service-accounts/$_gsa/iam-policy.json" gcloud iam service-accounts get-iam-policy "$_gsa" --format=json --quiet
        else
            skip_source "gcloud/service-accounts/$(safe_name "$_gsa")/iam-policy.json" "the annotation value is not a service-account email" gcloud iam service-accounts get-iam-policy "$_gsa"
        fi
    done <"$TMPD/gsas"
}

# ---------------------------------------------------------------------------------------------
# Node side

PREFLIGHT_BINARIES="crictl conntrack ebtables ethtool ip iptables mount nsenter socat tc touch"

probe_binaries() { # called with the recorded argv: command -v NAME...
    shift 2
    for _b in "$@"; do
        _p=$(command -v "$_b" 2>/dev/null) || _p=""
        printf '%s %s\n' "$_b" "${_p:-MISSING}"
    done
}

# systemctl show output (Id=..., ActiveState=...) to "<unit> <state>" lines.
states_filter() {
    awk -F '=' '$1 == "Id" { id = $2; sub(/\.service$/, "", id) }
                $1 == "ActiveState" { st = $2 }
                NF == 0 { if (id != "") print id, st; id = ""; st = "" }
                END { if (id != "") print id, st }'
}

# The packages whose versions matter (container runtime, kubelet, kubeadm), with release.
packages_filter() {
    awk '{ name = $1; sub(/-[0-9].*$/, "", name) }
         name ~ /^(docker|docker-ce|docker-ce-cli|docker-engine|docker\.io|docker-common|docker-client|moby-engine|moby-containerd|containerd|containerd\.io|cri-o|cri-tools|runc|kubelet|kubeadm|kubectl|kubernetes-cni)$/' |
        sort
}

dpkg_filter() {
    awk '$3 == "install" && $5 == "installed" { print $1, $2 }' | packages_filter
}

# Fingerprints of PEM certificates: "<file> sha256:<hex>" (never a key).
fp_of_pem() { # stdin: PEM text; prints lower-case hex
    if have openssl; then
        openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/^[^=]*=//' | tr -d ':' | tr 'A-F' 'a-f'
    else
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' | sed '/-----/d' |
            base64 -d 2>/dev/null | { sha256sum 2>/dev/null || shasum -a 256; } | awk '{ print $1 }'
    fi
}

fingerprints() {
    _r=$ROOT
    for _f in "$_r"/etc/kubernetes/pki/*.crt "$_r"/etc/kubernetes/pki/*/*.crt; do
        [ -f "$_f" ] || continue
        _h=$(fp_of_pem <"$_f")
        [ -z "$_h" ] || printf '%s sha256:%s\n' "${_f#"$_r"}" "$_h"
    done
    for _k in "$_r"/etc/kubernetes/*.conf "$_r"/root/.kube/config; do
        [ -f "$_k" ] || continue
        awk '$1 == "certificate-authority-data:" { print $2 }' "$_k" | while IFS= read -r _b64; do
            _h=$(printf '%s' "$_b64" | base64 -d 2>/dev/null | fp_of_pem)
            [ -z "$_h" ] || printf '%s sha256:%s\n' "${_k#"$_r"}" "$_h"
        done
        awk '$1 == "certificate-authority:" { print $2 }' "$_k" | while IFS= read -r _ca; do
            case "$_ca" in /*) ;; *) _ca="$(dirname "${_k#"$_r"}")/$_ca" ;; esac
            [ -f "$_r$_ca" ] || continue
            _h=$(fp_of_pem <"$_r$_ca")
            [ -z "$_h" ] || printf '%s sha256:%s\n' "${_k#"$_r"}" "$_h"
        done
    done
}

NODE_NAME=""

plan_node() {
    _n="nodes/$NODE_NAME"
    _r=$ROOT
    # CRI-O only where it is installed: its unit would be one more failed source elsewhere.
    _units="kubelet docker containerd"
    if have crio || [ -d "$_r/etc/crio" ]; then
        _units="$_units crio"
    fi
    for _u in $_units; do
        S_SINCE=1
        S_RETRY=retry_journal
        step log "$_n/journal/$_u.log" journalctl -u "$_u" -o short-iso-precise --no-pager "--since=-${SINCE_S}s"
    done
    step text "$_n/kubelet/config.yaml" cat "$_r/var/lib/kubelet/config.yaml"
    step text "$_n/kubelet/flags.env" cat "$_r/var/lib/kubelet/kubeadm-flags.env"
    for _f in "$_r/etc/default/kubelet" "$_r/etc/sysconfig/kubelet"; do
        [ -f "$_f" ] && step text "$_n/kubelet/extra-args.env" cat "$_f" && break
    done

    _kc=""
    for _f in "$_r"/etc/kubernetes/kubeadm-config.yaml "$_r"/etc/kubernetes/kubeadm.yaml "$_r"/etc/kubernetes/kubeadm*.yaml; do
        if [ -f "$_f" ]; then
            _kc=$_f
            break
        fi
    done
    if [ -n "$_kc" ]; then
        step text "$_n/kubeadm/config.yaml" cat "$_kc"
    elif [ -f "$_r/etc/kubernetes/admin.conf" ]; then
        step text "$_n/kubeadm/config.yaml" kubectl --kubeconfig "$_r/etc/kubernetes/admin.conf" "--request-timeout=${TIMEOUT_S}s" -n kube-system get configmap kubeadm-config "-o=jsonpath={.data.ClusterConfiguration}"
    else
        skip_source "$_n/kubeadm/config.yaml" "no kubeadm configuration file and no admin.conf on this node" cat /etc/kubernetes/kubeadm-config.yaml
    fi

    step json "$_n/runtime/docker-info.json" docker info --format '{{json .}}'
    if have docker || ! have containerd; then
        step text "$_n/runtime/version.txt" docker version
        step text "$_n/runtime/containerd-version.txt" containerd --version
    else
        step text "$_n/runtime/version.txt" containerd --version
    fi
    if have dpkg-query; then
        S_FILTER=dpkg_filter
        step text "$_n/runtime/packages.txt" dpkg-query -W '-f=${Package} ${Version} ${Status}\n'
    else
        S_FILTER=packages_filter
        step text "$_n/runtime/packages.txt" rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n'
    fi
    if have crictl || ! have docker; then
        step text "$_n/runtime/containers.txt" crictl ps -a
        have docker && step text "$_n/runtime/docker-containers.txt" docker ps -a
    else
        step text "$_n/runtime/containers.txt" docker ps -a
    fi
    step text "$_n/runtime/containerd-config.toml" cat "$_r/etc/containerd/config.toml"

    for _u in $_units; do
        step text "$_n/systemd/$_u.service" systemctl cat "$_u.service" --no-pager
    done
    S_FILTER=states_filter
    # shellcheck disable=SC2046
    step text "$_n/systemd/states.txt" systemctl show -p Id -p ActiveState $(for _u in $_units; do printf '%s.service ' "$_u"; done)
    S_FN=probe_binaries
    # shellcheck disable=SC2086
    step text "$_n/probes/binaries.txt" command -v $PREFLIGHT_BINARIES

    _osr="$_r/etc/os-release"
    [ -f "$_osr" ] || _osr="$_r/usr/lib/os-release"
    step text "$_n/os-release" cat "$_osr"
    step text "$_n/mounts" cat "$_r/proc/mounts"
    step text "$_n/resolv.conf" cat "$_r/etc/resolv.conf"
    step text "$_n/hostname-i.txt" hostname -i
    step text "$_n/ip-addr.txt" ip addr show
    step text "$_n/getenforce.txt" getenforce
    for _f in "$_r"/etc/cni/net.d/*; do
        [ -f "$_f" ] || continue
        step text "$_n/cni/$(safe_name "${_f##*/}")" cat "$_f"
    done
    for _f in "$_r"/etc/kubernetes/manifests/*; do
        [ -f "$_f" ] || continue
        step text "$_n/manifests/$(safe_name "${_f##*/}")" cat "$_f"
    done
    S_FN=fingerprints
    step text "$_n/pki/fingerprints.txt" openssl x509 -noout -fingerprint -sha256 -in "/etc/kubernetes/pki/*.crt" "/etc/kubernetes/*.conf:certificate-authority-data"
}

# journalctl before systemd 234 has no short-iso-precise output.
retry_journal() {
    grep -qi 'output' "$TMPD/err" 2>/dev/null || return 1
    RETRY_ARGV=()
    for _a in "$@"; do
        [ "$_a" = short-iso-precise ] && _a=short-iso
        RETRY_ARGV+=("$_a")
    done
    return 0
}

# ---------------------------------------------------------------------------------------------
# Main

if [ -n "$REDACT_FILE" ]; then
    { [ -f "$REDACT_FILE" ] && [ -r "$REDACT_FILE" ]; } || die "--redact: $(printable "$REDACT_FILE") is not a readable file"
    TMPD=$(mktemp -d "${TMPDIR:-/tmp}/collect-bundle.XXXXXX") || die "cannot create a temporary folder"
    # A .json file is redacted as JSON (only the contents of its strings change).
    _rmode=text
    case "$REDACT_FILE" in *.json | *.JSON) _rmode=json ;; esac
    _count=$(redact "$REDACT_FILE" "$TMPD/redacted" "$_rmode")
    cat "$TMPD/redacted"
    rm -rf "$TMPD"
    printf 'collect-bundle: %s redactions\n' "$_count" >&2
    exit 0
fi

if [ "$DO_CLUSTER" = 1 ]; then
    read_context
    detect_gke
fi
if [ "$DO_NODE" = 1 ]; then
    NODE_NAME=$NODE_NAME_OPT
    [ -n "$NODE_NAME" ] || NODE_NAME=$(hostname 2>/dev/null | tr '[:upper:]' '[:lower:]')
    [ -n "$NODE_NAME" ] || NODE_NAME=node
    NODE_NAME=$(safe_name "$(printf '%s' "$NODE_NAME" | tr '[:upper:]' '[:lower:]')")
fi

if [ "$DRY_RUN" = 1 ]; then
    PHASE=print
    TMPD=$(mktemp -d "${TMPDIR:-/tmp}/collect-bundle.XXXXXX") || die "cannot create a temporary folder"
    BUNDLE="$TMPD/bundle"
    echo "Commands collect-bundle would run (none has run):"
    if [ "$DO_CLUSTER" = 1 ]; then
        plan_cluster_discovery
        plan_cluster
        if [ "$GKE" = 1 ]; then plan_gke; fi
    fi
    if [ "$DO_NODE" = 1 ]; then plan_node; fi
    rm -rf "$TMPD"
    exit 0
fi

for _tool in awk sed tr head tail wc date mkdir cat grep sort mktemp; do
    have "$_tool" || die "$_tool is needed and was not found on PATH"
done
mkdir -p "$OUTPUT_DIR" 2>/dev/null || die "cannot create the output folder $(printable "$OUTPUT_DIR"): choose another with --output"
[ -w "$OUTPUT_DIR" ] || die "the output folder $(printable "$OUTPUT_DIR") is not writable: choose another with --output"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
CREATED=$(utc_now)
if [ -n "$NAME_OPT" ]; then
    NAME=$(safe_name "$NAME_OPT")
elif [ "$DO_CLUSTER" = 1 ] && [ -n "$GKE_CLUSTER" ]; then
    NAME="kubetriage-$(safe_name "$GKE_CLUSTER")"
elif [ "$DO_NODE" = 1 ]; then
    NAME="kubetriage-$NODE_NAME"
elif [ -n "$CTX_CLUSTER" ]; then
    NAME="kubetriage-$(safe_name "$CTX_CLUSTER")"
else
    NAME="kubetriage"
fi
TOP="$NAME-$STAMP"
WORK=$(mktemp -d "$OUTPUT_DIR/.collect-bundle.XXXXXX") || die "cannot create a folder in $(printable "$OUTPUT_DIR"): choose another with --output"
TMPD="$WORK/tmp"
BUNDLE="$WORK/$TOP"
mkdir -p "$TMPD" "$BUNDLE" || die "cannot create the bundle folder in $(printable "$OUTPUT_DIR")"
SOURCES="$TMPD/sources"
: >"$SOURCES"
trap on_interrupt INT TERM HUP

[ "$HAVE_TIMEOUT" = 1 ] || printf 'collect-bundle: no GNU timeout(1) here: commands are bounded by a watchdog\n' >&2

plan_all_count() {
    PHASE=count
    COUNTED=0
    if [ "$DO_CLUSTER" = 1 ]; then
        plan_cluster_discovery
        plan_cluster
        [ "$GKE" = 0 ] || plan_gke
    fi
    [ "$DO_NODE" = 0 ] || plan_node
    TOTAL=$COUNTED
}

plan_all_count
PHASE=run
if [ "$DO_CLUSTER" = 1 ]; then
    plan_cluster_discovery
    # Now that the pods and service accounts are known, the total is too.
    PHASE=count
    COUNTED=$STEP_N
    plan_cluster
    [ "$GKE" = 0 ] || plan_gke
    [ "$DO_NODE" = 0 ] || plan_node
    TOTAL=$COUNTED
    PHASE=run
    plan_cluster
    [ "$GKE" = 0 ] || plan_gke
fi
[ "$DO_NODE" = 0 ] || plan_node

# The cluster kind for the manifest.
KIND="generic"
if [ "$DO_CLUSTER" = 1 ] && [ "$GKE" = 1 ]; then
    KIND="gke"
elif [ "$DO_CLUSTER" = 1 ] && grep -q '"name": *"kubeadm-config"' "$BUNDLE/kubectl/configmaps.json" 2>/dev/null; then
    KIND="kubeadm"
elif [ "$DO_NODE" = 1 ] && { [ -f "$ROOT/var/lib/kubelet/kubeadm-flags.env" ] || [ -f "$ROOT/etc/kubernetes/manifests/kube-apiserver.yaml" ] || [ -f "$ROOT/etc/kubernetes/kubelet.conf" ]; }; then
    KIND="kubeadm"
fi
CL_NAME=$CTX_CLUSTER
[ "$GKE" = 0 ] || CL_NAME=$GKE_CLUSTER

write_manifest() {
    _m="$BUNDLE/manifest.json"
    {
        printf '{\n  "format": 1,\n'
        printf '  "collector": {"name": "%s", "version": "%s"},\n' "$COLLECTOR_NAME" "$COLLECTOR_VERSION"
        printf '  "created": "%s",\n' "$CREATED"
        printf '  "mode": "%s",\n' "$KIND"
        _cl=""
        if [ "$DO_CLUSTER" = 1 ]; then
            _cl=$(S_CTX=$CTX_NAME S_NAME=$CL_NAME S_PROJECT=$GKE_PROJECT S_LOC=$GKE_LOCATION \
                json_strings S_CTX S_NAME S_PROJECT S_LOC | awk '
                    NR == 1 && $0 != "\"\"" { out = out sep "\"context\": " $0; sep = ", " }
                    NR == 2 && $0 != "\"\"" { out = out sep "\"name\": " $0; sep = ", " }
                    NR == 3 && $0 != "\"\"" { out = out sep "\"project\": " $0; sep = ", " }
                    NR == 4 && $0 != "\"\"" { out = out sep "\"location\": " $0; sep = ", " }
                    END { print out }')
        fi
        printf '  "cluster": {%s},\n' "$_cl"
        if [ "$DO_NODE" = 1 ]; then
            printf '  "node": {"name": "%s"},\n' "$NODE_NAME"
        fi
        printf '  "bounds": {"timeout_s": %s, "max_time_s": %s, "parallel": %s, "since": "%s", "log_bytes": %s, "max_bytes": %s, "max_logs": %s, "timeout_by": "%s"},\n' \
            "$TIMEOUT_S" "$MAX_TIME_S" "$PARALLEL" "$SINCE_OPT" "$LOG_BYTES" "$MAX_BYTES" "$MAX_LOGS" "$([ "$HAVE_TIMEOUT" = 1 ] && echo timeout || echo watchdog)"
        printf '  "interrupted": %s,\n' "$([ "$INTERRUPTED" = 1 ] && echo true || echo false)"
        printf '  "deadline_reached": %s,\n' "$([ "$DEADLINE_SKIPS" -gt 0 ] && echo true || echo false)"
        printf '  "outcome": {"exit_code": %s, "problem": %s},\n' "$OUTCOME" "$(S_LINE=$OUTCOME_LINE json_strings S_LINE)"
        printf '  "sources": [\n'
        awk '{ printf "%s    %s", (NR > 1 ? ",\n" : ""), $0 } END { if (NR) printf "\n" }' "$SOURCES"
        printf '  ]\n}\n'
    } >"$_m"
}
# The outcome: what failed as a whole is said once, in one line, and sets the exit status.
if [ "$OUTCOME" = 0 ] && [ "$DO_CLUSTER" = 1 ] && [ "$LISTS_OK" = 0 ] && [ "$LISTS_DENIED" -gt 0 ]; then
    OUTCOME=6
    OUTCOME_LINE="the cluster of $(printable "${CTX_NAME:-the current context}") denied access to every list ($LISTS_DENIED refused): run as an identity that may read the cluster (the view ClusterRole at least), or choose another --context"
fi
DEADLINE_SKIPS=$(grep -c '"error": "skipped: the --max-time' "$SOURCES" 2>/dev/null)
case "$DEADLINE_SKIPS" in '' | *[!0-9]*) DEADLINE_SKIPS=0 ;; esac
# The probe passed, yet not one list came back (each failed, timed out or was never reached):
# an API server that answers /version while its lists hang (etcd down, overload) gives a
# bundle that would look complete and hold nothing.
if [ "$OUTCOME" = 0 ] && [ "$PROBE_OK" = 1 ] && [ "$INTERRUPTED" = 0 ] &&
    [ "$LISTS_OK" = 0 ] && [ "$LISTS_DENIED" = 0 ]; then
    OUTCOME=7
    OUTCOME_LINE="the cluster of $(printable "${CTX_NAME:-the current context}") answered kubectl version but no list came back ($LISTS_FAILED failed or timed out, $DEADLINE_SKIPS not reached): the API server or etcd may be overloaded or down; check the control plane, or rerun with a longer --timeout and --max-time"
fi

# finish WHAT PATH: the closing lines and the exit status.
finish() {
    printf 'collect-bundle: %d sources recorded; %s\n' "$STEP_N" "$1" >&2
    if [ "$DEADLINE_SKIPS" -gt 0 ]; then
        printf 'collect-bundle: the --max-time of %s was reached: %d sources skipped (recorded in manifest.json); a longer --max-time collects them\n' "$MAX_TIME_OPT" "$DEADLINE_SKIPS" >&2
    fi
    [ -z "$OUTCOME_LINE" ] || printf 'collect-bundle: %s\n' "$OUTCOME_LINE" >&2
    printf '%s\n' "$2"
    exit "$OUTCOME"
}

# Nothing collected (every source failed or was skipped): no bundle, only the reason.
collected_any() {
    for _f in "$BUNDLE"/*; do
        [ -e "$_f" ] && return 0
    done
    return 1
}
if ! collected_any; then
    rm -rf "$WORK"
    [ -n "$OUTCOME_LINE" ] || OUTCOME_LINE="nothing could be collected: every source failed (run with --dry-run to see the commands)"
    [ "$OUTCOME" != 0 ] || OUTCOME=1
    printf 'collect-bundle: %d sources tried, none collected: no bundle written\n' "$STEP_N" >&2
    printf 'collect-bundle: %s\n' "$OUTCOME_LINE" >&2
    exit "$OUTCOME"
fi

write_manifest || die "cannot write manifest.json in $(printable "$BUNDLE")"

rm -rf "$TMPD"
trap - INT TERM HUP

if [ "$NO_ARCHIVE" = 1 ]; then
    mv "$BUNDLE" "$OUTPUT_DIR/$TOP" || die "cannot move the bundle into $(printable "$OUTPUT_DIR")"
    rmdir "$WORK" 2>/dev/null
    finish "bundle folder written" "$OUTPUT_DIR/$TOP"
fi

ARCHIVE="$OUTPUT_DIR/$TOP.tar.gz"
if (cd "$WORK" && tar -cf - "$TOP") | gzip -c >"$ARCHIVE.part" && [ -s "$ARCHIVE.part" ] && mv "$ARCHIVE.part" "$ARCHIVE"; then
    rm -rf "$WORK"
    finish "bundle written" "$ARCHIVE"
fi
rm -f "$ARCHIVE.part"
# No archive, but the folder is a bundle too.
if mv "$BUNDLE" "$OUTPUT_DIR/$TOP" 2>/dev/null; then
    rm -rf "$WORK"
    finish "could not pack the archive (tar or gzip failed): the bundle is left as a folder" "$OUTPUT_DIR/$TOP"
fi
die "could not write the bundle into $(printable "$OUTPUT_DIR")"
