# Shared preamble of the bench scripts; sourced, not run.
#
# bench_init RAW_NAME HELP_LAST_LINE "$@"
#   parses --quick (sets QUICK=1) and -h/--help (prints lines 2..HELP_LAST_LINE
#   of the calling script), refuses anything else, then sets REPO (and cd's
#   there), OUT=bench/out and RAW=bench/out/RAW_NAME, emptied for this run.
bench_init() {
  local raw_name=$1 help_last=$2 script
  shift 2
  script=$(basename "$0")
  QUICK=0
  for arg in "$@"; do
    case $arg in
      --quick) QUICK=1 ;;
      -h | --help) sed -n "2,${help_last}p" "$0"; exit 0 ;;
      *) echo "$script: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
  done
  REPO=$(cd "$(dirname "$0")/.." && pwd)
  cd "$REPO"
  OUT="$REPO/bench/out"
  RAW="$OUT/$raw_name"
  mkdir -p "$OUT"
  rm -rf "$RAW"
  mkdir -p "$RAW"
}

# bench_binary: BIN = $CACHECMD_BIN if set, else the release build (built now), the binary the
# README's install command produces. Needs REPO and a log function.
bench_binary() {
  if [[ -n ${CACHECMD_BIN:-} ]]; then
    BIN=$(realpath "$CACHECMD_BIN")
  else
    log "building release binary"
    cargo build --release --locked -p cachecmd >&2
    BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/cachecmd"
  fi
}
