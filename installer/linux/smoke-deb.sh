#!/usr/bin/env bash
# The installed app, as a user gets it: unpack the .deb into a temporary root and run the
# installed programs with no network (unshare -rn), an empty HOME and no environment
# from the build (env -i), offscreen.
#   installer/linux/smoke-deb.sh dist/docqa_<version>_amd64.deb [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/../.."
deb=$1
shot=${2:-}
root=$(mktemp -d /tmp/docqa-deb-root.XXXXXX)
home=$(mktemp -d /tmp/docqa-empty-home.XXXXXX)
trap 'rm -rf "$root" "$home"' EXIT
dpkg-deb -x "$deb" "$root"
app="$root/opt/docqa"
[ "$(readlink "$root/usr/bin/docqa-desktop")" = /opt/docqa/docqa-desktop ] || { echo "smoke-deb: /usr/bin/docqa-desktop does not point into /opt/docqa" >&2; exit 1; }
[ -f "$root/usr/share/applications/docqa-desktop.desktop" ] || { echo "smoke-deb: no menu entry" >&2; exit 1; }
sample="$PWD/assets/samples/sample-mutual-nda.pdf"
# No keychain in an empty session: the library key comes from a passphrase, as on a
# headless machine (a desktop session's Secret Service keeps it instead).
isolate=(env -i PATH=/usr/bin:/bin HOME="$home" LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen
         DOCQA_PASSPHRASE="smoke test passphrase")
if unshare -rn true 2>/dev/null; then
    isolate=(unshare -rn "${isolate[@]}")
else
    echo "smoke-deb: warning: no network namespace here; running with the network present" >&2
fi
cd "$home"
# The CLI: a real Chroma index and the bundled embedder, in the frozen app.
"${isolate[@]}" "$app/docqa" --library "$home/lib" ingest "$sample"
"${isolate[@]}" "$app/docqa" --library "$home/lib" search "termination notice" -k 1 --json | head -c 300; echo
# The desktop app: a window, the drop, both models, an answer with citations, the viewer.
start=$(date +%s.%N)
"${isolate[@]}" "$app/docqa-desktop" --smoke "$sample" "How can either party terminate the agreement?" \
    --timeout 900 ${shot:+--screenshot "$shot"}
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "smoke-deb: the installed app passed its smoke test in %.1f s\n", e - s }'
