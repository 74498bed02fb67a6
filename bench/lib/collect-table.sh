# Sourced by bench/table1, bench/table2, bench/table1-fan-im and bench/table1-mnistm-standardize-draws: collect one sweep's finished runs
# (`fan sweep SPEC --collect`) into a committed result page under bench/results/.
#
#   collect_table SPEC RESULT HEADER [APPENDIX]
#
# SPEC: the sweep file (bench/sweeps/X.json); its directory is the file's "out" (bench/runs/X).
# RESULT: the page's base name in bench/results: writes RESULT.md and RESULT_runs.csv (one row per run).
# HEADER: the page's opening (title and how to read it); the commit, the cores and the date are put in
# where it says @STAMP@. APPENDIX: a page appended when it exists (a reading of the table).
# The page is the summary's method tables first, then its group table.
# It cds to the repository root, where the caller goes on (bench/table1 copies summary.csv after it).
collect_table() {
  local spec="$1" result="$2" header="$3" appendix="${4:-}"
  local here fan dir stamp
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  fan="${FAN_BIN:-$here/build/app/fan}"
  cd "$here"
  "$fan" sweep "$spec" --collect > /dev/null
  dir="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["out"])' "$spec")"
  stamp="commit $(git rev-parse --short HEAD), $(nproc) cores, $(date -u +%Y-%m-%d)"
  {
    printf '%s\n\n' "${header//@STAMP@/$stamp}"
    sed -n '/^### /,$p' "$dir/summary.md"
    echo
    sed -n '1,/^### /p' "$dir/summary.md" | sed '$d'
    if [ -n "$appendix" ] && [ -f "$appendix" ]; then echo; cat "$appendix"; fi
  } > "bench/results/$result.md.tmp"
  mv "bench/results/$result.md.tmp" "bench/results/$result.md"
  cp "$dir/runs.csv" "bench/results/${result}_runs.csv"
}
