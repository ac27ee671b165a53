#!/usr/bin/env bash
# Build dist/docqa_<version>_amd64.deb from a clean checkout, in one command:
#   installer/build-deb.sh [--gguf FILE.gguf] [--variant cuda=DIR ...]   (see installer/README.md)
# It installs docqa into .venv/ if needed (as installer/run-app.sh does), compiles a
# portable llama.cpp once (cached: an AVX2 baseline and AVX-512 / AMX variants), freezes the app with PyInstaller into dist/docqa/ and
# packages it: /opt/docqa, docqa and docqa-desktop in /usr/bin, a menu entry and icon.
# Machine-wide install; each user's libraries and settings stay in their own data folder.
# DOCQA_VENV=/path/to/venv builds from an existing environment instead of .venv/.
# The package needs glibc as new as the build machine's newest symbol: build on the oldest
# release to support (Debian 12 here: glibc 2.36; Ubuntu 22.04 needs a 22.04 build machine).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
for tool in dpkg-deb dpkg ldd readelf; do
    command -v "$tool" >/dev/null || { echo "build-deb: $tool is needed (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done
if [ -z "${DOCQA_VENV:-}" ]; then
    installer/setup-venv.sh
    export DOCQA_VENV=.venv
fi
py="$DOCQA_VENV/bin/python"
# The "build" extra in pyproject.toml: PyInstaller (a build tool, never shipped) and gguf
# (the app reads model headers with it; the source install has it from the test extra).
"$py" -c "import PyInstaller, gguf" 2>/dev/null || "$py" -m pip install -q "pyinstaller>=6.10,<7" "gguf>=0.10"

# DOCQA_REUSE_FREEZE=1 packages an existing dist/docqa again (to iterate on the package).
if [ -z "${DOCQA_REUSE_FREEZE:-}" ] || [ ! -x dist/docqa/docqa ]; then
    # The AVX2 baseline where llama_cpp looks by default, the AVX-512 and AMX variants beside
    # it; the app probes them at first start and keeps the fastest that runs.
    llama=$(installer/build-llama-portable.sh)
    variants=()
    for d in "$llama"/cpu-*; do [ -d "$d" ] && variants+=(--variant "$(basename "$d")=$d"); done
    "$py" installer/build.py --llama-lib "$llama/cpu" "${variants[@]}" "$@"
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
arch=$(dpkg --print-architecture)
root=build/deb/root
rm -rf build/deb && mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
    "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/icons/hicolor/256x256/apps" \
    "$root/usr/share/doc/docqa"
cp -a dist/docqa "$root/opt/docqa"
ln -s /opt/docqa/docqa "$root/usr/bin/docqa"
ln -s /opt/docqa/docqa-desktop "$root/usr/bin/docqa-desktop"
install -m 644 installer/linux/docqa-desktop.desktop "$root/usr/share/applications/docqa-desktop.desktop"
install -m 644 assets/docqa.svg "$root/usr/share/icons/hicolor/scalable/apps/docqa.svg"
install -m 644 assets/docqa.png "$root/usr/share/icons/hicolor/256x256/apps/docqa.png"
printf 'docqa %s: private document Q&A. Models: see /opt/docqa/_internal/models/models.json\n' "$version" \
    > "$root/usr/share/doc/docqa/README"
# Files readable by everyone, writable by root only: users' data never goes under /opt.
chmod -R u=rwX,go=rX "$root/opt/docqa"

depends=$("$py" installer/linux/deb_depends.py dist/docqa)
cat > "$root/DEBIAN/control" <<CONTROL
Package: docqa
Version: $version
Architecture: $arch
Maintainer: docqa team <docqa@localhost>
Installed-Size: $(du -sk --apparent-size "$root" | cut -f1)
Depends: $depends
Section: office
Priority: optional
Description: private document Q&A with cited answers, offline
 Ask questions about PDFs, contracts, letters and e-mails and get answers with
 citations to the exact file, page and passage. Everything runs on this computer:
 the language and search models are inside the package, nothing is downloaded.
CONTROL
# Refresh the menu and icon caches where the desktop has them; never fail an install on it.
for script in postinst postrm; do
    cat > "$root/DEBIAN/$script" <<'HOOK'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
exit 0
HOOK
    chmod 755 "$root/DEBIAN/$script"
done

deb="dist/docqa_${version}_${arch}.deb"
# zstd: about a minute for the 1.8 GB tree, where xz had not finished after 11 minutes on
# two shared cores. dpkg reads it from 1.21.18 (Debian 12, Ubuntu 22.04), older than the
# glibc the bundle needs anyway.
dpkg-deb --build --root-owner-group -Zzstd -z9 "$root" "$deb" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1), unpacked $(du -sh "$root/opt/docqa" | cut -f1)) in $(( $(date +%s) - started )) s"
echo "build-deb: Depends: $depends"
