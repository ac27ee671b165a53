#!/usr/bin/env bash
# macOS (Apple silicon or Intel): dist/docqa.app and dist/docqa-<version>.dmg, signed with
# the hardened runtime and notarised, from a clean checkout:
#   DOCQA_SIGN_ID="Developer ID Application: Example Ltd (TEAMID1234)" \
#   DOCQA_NOTARY_PROFILE=docqa-notary installer/macos/build-dmg.sh [--gguf FILE.gguf]
# Once per machine, store the notary credentials in the keychain:
#   xcrun notarytool store-credentials docqa-notary --apple-id you@example.com --team-id TEAMID1234
#   (an app-specific password from appleid.apple.com)
# Without DOCQA_SIGN_ID the app and .dmg are built unsigned (ad hoc), for testing only:
# Gatekeeper refuses them on other Macs.
# Needs: Python 3.11, Xcode command line tools (clang, codesign, hdiutil, notarytool), CMake.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
if [ -z "${DOCQA_VENV:-}" ]; then
    installer/setup-venv.sh
    export DOCQA_VENV=.venv
fi
py="$DOCQA_VENV/bin/python"
"$py" -c "import PyInstaller, gguf" 2>/dev/null || "$py" -m pip install -q "pyinstaller>=6.10,<7" "gguf>=0.10"

# Metal: on Apple silicon the one build offloads to the GPU through Metal and falls back
# to the CPU by itself; the shader library is embedded so nothing is compiled at run time.
lib=$(LLAMA_EXTRA_CMAKE_ARGS="-DGGML_METAL=ON -DGGML_METAL_EMBED_LIBRARY=ON" installer/build-llama-portable.sh)

# assets/docqa.icns from the PNG, for the app and the Finder.
iconset=build/docqa.iconset
rm -rf "$iconset" && mkdir -p "$iconset"
for s in 16 32 128 256; do
    sips -z $s $s assets/docqa.png --out "$iconset/icon_${s}x${s}.png" >/dev/null
    sips -z $((s * 2)) $((s * 2)) assets/docqa.png --out "$iconset/icon_${s}x${s}@2x.png" >/dev/null
done
iconutil -c icns "$iconset" -o assets/docqa.icns

DOCQA_VERSION="$version" "$py" installer/build.py --llama-lib "$lib" "$@"
app=dist/docqa.app

# Sign inside out: every library and executable, then the bundle, with the hardened
# runtime (required for notarisation) and a secure timestamp.
id="${DOCQA_SIGN_ID:--}"
sign=(codesign --force --options runtime --entitlements installer/macos/entitlements.plist --sign "$id")
[ "$id" != "-" ] && sign+=(--timestamp)
find "$app/Contents" -type f \( -name '*.dylib' -o -name '*.so' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
        file -b "$f" | grep -q Mach-O && "${sign[@]}" "$f"
    done
"${sign[@]}" "$app"
codesign --verify --deep --strict --verbose=2 "$app"

# The disk image: the app and a link to /Applications to drag it onto.
dmg="dist/docqa-$version.dmg"
staging=build/dmg
rm -rf "$staging" "$dmg" && mkdir -p "$staging"
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "docqa $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
if [ "$id" != "-" ]; then
    codesign --force --timestamp --sign "$id" "$dmg"
    if [ -n "${DOCQA_NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$dmg" --keychain-profile "$DOCQA_NOTARY_PROFILE" --wait
        xcrun stapler staple "$dmg"          # the ticket travels with the file: no network check at first open
        xcrun stapler validate "$dmg"
        spctl --assess --type open --context context:primary-signature --verbose "$dmg"
    fi
fi
echo "build-dmg: $dmg"
