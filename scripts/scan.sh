#!/usr/bin/env bash
# A bounded run of two outside scanners nobody here wrote, Debian's wapiti and sqlmap,
# against the archive served on 127.0.0.1 only, and a summary of what they found.
#
#   bash scripts/scan.sh [OUTPUT_DIR]        # default /tmp/archive-scan; a few minutes
#
# The archive is the bundled sample in a throwaway ARCHIVE_HOME, served with
# --private, and the scanners hold an editor's API token: they reach every page,
# form and JSON endpoint an editor reaches (they may add, edit and delete the
# sample's articles; nothing else is touched).  wapiti crawls and attacks (SQL,
# blind SQL, XSS, stored XSS, command execution, file paths, CRLF, open redirects,
# CSRF, headers, cookie flags, HTTP methods, backup files); its modules that call
# a server of their own on the internet (ssrf, xxe) and the brute-force ones
# (nikto, buster, brute_login_form) are left out, and its endpoints point back at
# 127.0.0.1.  sqlmap then tries every parameter of the search API and the fields
# of the JSON API that adds articles.  Each tool is stopped by its own time limit
# and by `timeout`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
OUT="${1:-/tmp/archive-scan}"
PORT="${PORT:-18765}"
BASE="http://127.0.0.1:$PORT"
SCAN_SECONDS="${SCAN_SECONDS:-240}"

if ! command -v wapiti >/dev/null || ! command -v sqlmap >/dev/null; then
  echo "wapiti と sqlmap を apt で入れます" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wapiti sqlmap
fi

rm -rf "$OUT" && mkdir -p "$OUT"
WORK="$(mktemp -d)"
export ARCHIVE_HOME="$WORK/home"
unset ARCHIVE_DATABASE_URL
cd "$ROOT"
"$PY" -m indexer import sample >/dev/null
echo "scanner password" | "$PY" -m indexer users add scanner --role editor --password-stdin >/dev/null
TOKEN="$("$PY" -m indexer tokens create scanner --role editor 2>/dev/null)"

"$PY" -m archive serve --private --host 127.0.0.1 --port "$PORT" >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do
  curl -fs -o /dev/null "$BASE/login" && break
  sleep 0.2
done

echo "== wapiti (at most ${SCAN_SECONDS}s)" >&2
timeout $((SCAN_SECONDS + 60)) wapiti -u "$BASE/" --scope folder \
  -m "sql,blindsql,xss,permanentxss,exec,file,crlf,redirect,csrf,http_headers,cookieflags,csp,methods,backup,htaccess" \
  -H "Authorization: Bearer $TOKEN" \
  --external-endpoint "$BASE/" --internal-endpoint "$BASE/" --no-bugreport \
  --max-scan-time "$SCAN_SECONDS" --max-attack-time 60 -d 4 --max-links-per-page 40 \
  --flush-session -f json -o "$OUT/wapiti.json" -v 1 >"$OUT/wapiti.log" 2>&1 || true

echo "== sqlmap (at most 120s each)" >&2
timeout 150 sqlmap --batch --disable-coloring --output-dir "$OUT/sqlmap" \
  -u "$BASE/api/search?q=test&site=a&category=b&tag=c&from=2025-01-01&sort=newest&page=1" \
  -H "Authorization: Bearer $TOKEN" --level 2 --risk 1 --time-sec 2 \
  >"$OUT/sqlmap-search.log" 2>&1 || true
timeout 150 sqlmap --batch --disable-coloring --output-dir "$OUT/sqlmap" \
  -u "$BASE/api/articles" --method POST \
  --data '{"title": "t*", "body": "b*", "url": "https://x.example/*", "tags": "a*"}' \
  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" --level 1 --risk 1 \
  --time-sec 2 >"$OUT/sqlmap-articles.log" 2>&1 || true

"$PY" - "$OUT" <<'EOF'
import json, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
report = json.loads((out / "wapiti.json").read_text()) if (out / "wapiti.json").exists() else {}
print(f"wapiti: {report.get('infos', {}).get('target', '?')}, crawled {len(report.get('infos', {}).get('crawled_pages', []) or [])} pages")
for section in ("vulnerabilities", "anomalies", "additionals"):
    for name, found in sorted(report.get(section, {}).items()):
        if found:
            print(f"  {section}: {name}: {len(found)}")
            for item in found[:5]:
                print(f"    - {item.get('method')} {item.get('path')} {item.get('parameter') or ''}: {item.get('info', '')[:140]}")
for log in ("sqlmap-search.log", "sqlmap-articles.log"):
    text = (out / log).read_text(errors="replace") if (out / log).exists() else ""
    verdicts = sorted(set(re.findall(r"(all tested parameters do not appear to be injectable|parameter '[^']+' (?:is|appears to be|does not seem to be) [^\n]*injectable)", text)))
    print(f"sqlmap {log}: " + ("; ".join(verdicts) or "no verdict (see the log)"))
EOF
echo "(details in $OUT)" >&2
