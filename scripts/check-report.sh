#!/usr/bin/env bash
# Checks a report.html in a real browser, offline: headless Chromium (Debian's
# chromium package) loads it with the network turned off, and the check fails when the
# page refers off itself, when the browser logs anything on its console (an error, or
# a fetch the page's Content-Security-Policy blocked), or when the loaded page does not
# show its plots as inline SVG.
#
# Usage: scripts/check-report.sh [--kinds "spectrum time batch rate"] REPORT [SCREENSHOT.png]
#        scripts/check-report.sh --self-test
#
# --kinds names the kinds of plot the page must show (default: all four); SCREENSHOT
# also saves what the browser drew, to look at. --self-test runs the check on pages that
# break each rule and fails unless it catches every one: the check tested in the failing
# direction. Exits 0 when the page passes, 1 when it fails, 2 on bad usage; without
# chromium on PATH it says so and exits 2.
set -euo pipefail

kinds="spectrum time batch rate"
if [ "${1:-}" = "--kinds" ]; then
  kinds=$2
  shift 2
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  sed -n '9,10p' "$0" >&2
  exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "check-report: chromium is not installed (apt-get install chromium)" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# browse URL ARGS...: headless Chromium with every way out closed: no proxy that
# answers, no name that resolves, no background traffic; its own profile. The console
# goes to $tmp/log, the DOM after loading to stdout.
browse() {
  local url=$1
  shift
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$tmp/profile" --proxy-server=127.0.0.1:9 --host-resolver-rules="MAP * ~NOTFOUND" \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --disable-default-apps --enable-logging=stderr --v=0 "$@" "$url" 2>"$tmp/log"
}

# check REPORT [SCREENSHOT]: prints what is wrong with REPORT; returns 1 if anything is.
check() {
  local page=$1 shot=${2:-} bad=0 abs
  abs=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
  # Off-page references, read from the file: no URL at all (the inline SVGs carry no
  # xmlns), no src, no link but to an anchor, no CSS url() but to an anchor, no style
  # sheet, script or frame.
  if grep -oiE '(https?|ftp|wss?):' "$page" | head -3 | grep -q .; then
    echo "check-report: $page holds a URL: $(grep -oiE '.{0,30}(https?|ftp|wss?):.{0,30}' "$page" | head -1)"
    bad=1
  fi
  if grep -qiE '[[:space:]]src[[:space:]]*=|[[:space:]]href[[:space:]]*=[[:space:]]*["'"'"']?[^"'"'"'#[:space:]>]|url\([[:space:]]*["'"'"']?[^"'"'"'#[:space:])]|@import|<script|<link|<iframe' "$page"; then
    echo "check-report: $page refers off itself: $(grep -oiE '.{0,20}([[:space:]]src=|[[:space:]]href=|url\(|@import|<script|<link|<iframe).{0,30}' "$page" | head -1)"
    bad=1
  fi
  # The page in the browser, offline.
  if ! browse "file://$abs" --dump-dom >"$tmp/dom.html"; then
    echo "check-report: chromium failed on $page:"
    grep -v -e dbus -e 'unexpected operator' "$tmp/log" | tail -5
    return 1
  fi
  if grep -q 'INFO:CONSOLE' "$tmp/log"; then
    echo "check-report: the browser's console, loading $page:"
    grep 'INFO:CONSOLE' "$tmp/log" | sed 's/^\[[^]]*\] /  /' | head -5
    bad=1
  fi
  if ! grep -q '</html>' "$tmp/dom.html"; then
    echo "check-report: $page did not load (no </html> in the DOM)"
    bad=1
  fi
  local plots svgs
  plots=$(grep -o 'data-plot="[^"]*"' "$tmp/dom.html" | wc -l)
  svgs=$(grep -o '<svg ' "$tmp/dom.html" | wc -l)
  if [ "$plots" -eq 0 ] || [ "$svgs" -ne "$plots" ]; then
    echo "check-report: $page shows $svgs inline SVGs for $plots plots"
    bad=1
  fi
  for k in $kinds; do
    if ! grep -q "data-plot=\"$k\." "$tmp/dom.html"; then
      echo "check-report: $page shows no $k plot"
      bad=1
    fi
  done
  if grep -q 'class="problem"' "$tmp/dom.html"; then
    echo "check-report: $page says a plot could not be drawn: $(grep -o 'class="problem">[^<]*' "$tmp/dom.html" | head -1)"
    bad=1
  fi
  if [ -n "$shot" ] && [ "$bad" -eq 0 ]; then
    browse "file://$abs" --window-size=1100,2600 --hide-scrollbars --screenshot="$shot" >/dev/null
    if [ ! -s "$shot" ]; then
      echo "check-report: no screenshot at $shot"
      bad=1
    fi
  fi
  [ "$bad" -eq 0 ] && echo "check-report: ok: $page loads offline without a console message, $plots plots inline ($kinds)"
  return "$bad"
}

if [ "$1" = "--self-test" ]; then
  good='<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src '"'none'"'; style-src '"'unsafe-inline'"'"><title>t</title></head><body>'
  plot='<figure data-plot="spectrum.x"><svg viewBox="0 0 1 1"><path d="M0,0L1,1"/></svg></figure></body></html>'
  printf '%s%s' "$good" "$plot" >"$tmp/good.html"
  printf '%s<img src="x.png">%s' "$good" "$plot" >"$tmp/img.html"
  printf '%s<p>http://example.org</p>%s' "$good" "$plot" >"$tmp/url.html"
  printf '%s<figure data-plot="spectrum.x"></figure></body></html>' "$good" >"$tmp/nosvg.html"
  printf '%s<p>no plot</p></body></html>' "$good" >"$tmp/noplot.html"
  ok=true
  kinds=spectrum check "$tmp/good.html" >/dev/null || { echo "self-test: a good page failed:"; kinds=spectrum check "$tmp/good.html" || true; ok=false; }
  for p in img url nosvg noplot; do
    if kinds=spectrum check "$tmp/$p.html" >"$tmp/out"; then
      echo "self-test: $p.html passed, but must fail"
      ok=false
    else
      echo "self-test: $p.html fails as it must: $(head -1 "$tmp/out")"
    fi
  done
  # A fetch the policy blocks shows on the console: a page whose CSS loads a font.
  printf '%s<style>@font-face{font-family:f;src:url(#f)} body{font-family:f}</style>%s' "$good" "$plot" >"$tmp/fetch.html"
  if kinds=spectrum check "$tmp/fetch.html" >"$tmp/out"; then
    echo "self-test: fetch.html passed, but its blocked font load must show on the console"
    ok=false
  else
    echo "self-test: fetch.html fails as it must: $(head -1 "$tmp/out")"
  fi
  $ok && echo "check-report: self-test ok"
  $ok
  exit
fi
check "$@"
