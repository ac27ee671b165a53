"""Print the Debian Depends line for a frozen bundle: every system library its ELF files
(the Qt xcb platform plugin, QtPdf, Python extensions) need and the bundle does not carry,
mapped to its package with ``dpkg -S``.

    python installer/linux/deb_depends.py dist/docqa

Run on the Debian/Ubuntu release the package targets, with those libraries installed (the
build fails listing any library ldd cannot find, rather than ship a package that installs
and then cannot open a window).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# Qt loads these with dlopen(), so ldd never sees them; its xcb plugin aborts without them.
DLOPENED = ["libxcb-cursor0", "libegl1", "libgl1", "libdbus-1-3"]


def elf_files(root: Path) -> list[Path]:
    out = []
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink() and (".so" in p.name or os.access(p, os.X_OK)):
            with p.open("rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(p)
    return out


def system_libs(root: Path) -> tuple[set[str], set[str]]:
    """(resolved paths outside the bundle, sonames ldd could not find)."""
    outside: set[str] = set()
    missing: set[str] = set()
    bundle = str(root.resolve())
    env = dict(os.environ, LD_LIBRARY_PATH=str(root / "_internal"))  # as the bootloader sets it
    for f in elf_files(root):
        r = subprocess.run(["ldd", str(f)], capture_output=True, text=True, env=env)
        for line in r.stdout.splitlines():
            m = re.match(r"\s*(\S+) => (not found|\S+)", line)
            if not m:
                continue
            name, path = m.groups()
            if path == "not found":
                missing.add(f"{name} (needed by {f.relative_to(root)})")
            elif not os.path.realpath(path).startswith(bundle):
                outside.add(os.path.realpath(path))
    return outside, missing


def glibc_needed(root: Path) -> str:
    """The newest GLIBC_x.y symbol version any bundled ELF file asks for: what libc6 must
    at least be (the build machine's own version would needlessly refuse older systems)."""
    best = (2, 17)
    for f in elf_files(root):
        for m in re.finditer(rb"GLIBC_2\.(\d+)(?:\.(\d+))?\x00", f.read_bytes()):
            best = max(best, (2, int(m.group(1))))
    return f"{best[0]}.{best[1]}"


def packages(paths: set[str]) -> set[str]:
    pkgs: set[str] = set()
    for path in sorted(paths):
        # dpkg knows a library by the path it installed, often /lib/... before usrmerge.
        for cand in (path, path.replace("/usr/lib/", "/lib/", 1)):
            r = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True)
            if r.returncode == 0:
                pkgs.add(r.stdout.split(":", 1)[0].strip())
                break
        else:
            print(f"deb_depends: no package owns {path}", file=sys.stderr)
    return pkgs


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "dist/docqa")
    outside, missing = system_libs(root)
    if missing:
        for m in sorted(missing):
            print(f"deb_depends: not found on this machine: {m}", file=sys.stderr)
        return 1
    pkgs = packages(outside) | set(DLOPENED)
    pkgs.discard("libc6")
    print(", ".join([f"libc6 (>= {glibc_needed(root)})", *sorted(pkgs)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
