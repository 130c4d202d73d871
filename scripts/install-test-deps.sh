#!/usr/bin/env bash
# What the tests need beyond the Python packages, installed only when missing (safe to re-run):
#   - Debian's chromium, for the real-browser tests (Playwright drives /usr/bin/chromium;
#     no browser build is downloaded);
#   - Debian's ardour (run headless through ardour7-lua by the Ardour bridge tests);
#   - the material the test audio is rendered from: fluidsynth with three GM soundfonts
#     (fluid-soundfont-gm, timgm6mb-soundfont, musescore-general-soundfont-small), recorded drum
#     kits (hydrogen-drumkits), recorded hits and loops (sonic-pi-samples), synthetic voices
#     (espeak-ng; Festival with the voices Debian packages for it), recorded voices (klettres-data's
#     speakers, alsa-utils' speaker test), and sox;
#   - Node.js (20.10+, for `node --experimental-websocket`) and the pinned TypeScript compiler
#     in tests/node, for the tests that type-check and run TypeScript clients (examples/typescript_client.ts,
#     and the original protocol document's client when that document is at hand).
# System packages need root (as on CI); sudo is used when available otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "install-test-deps: '$*' needs root; run this script as root or install the package yourself" >&2
        exit 1
    fi
}

missing_packages=()
[ -x /usr/bin/chromium ] || missing_packages+=(chromium)
command -v ardour7-lua >/dev/null 2>&1 || missing_packages+=(ardour)
command -v fluidsynth >/dev/null 2>&1 || missing_packages+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || missing_packages+=(fluid-soundfont-gm)
[ -f /usr/share/sounds/sf2/TimGM6mb.sf2 ] || missing_packages+=(timgm6mb-soundfont)
[ -f /usr/share/sounds/sf3/MuseScore_General_Lite.sf3 ] || missing_packages+=(musescore-general-soundfont-small)
[ -d /usr/share/hydrogen/data/drumkits ] || missing_packages+=(hydrogen-drumkits)
[ -d /usr/share/sonic-pi/samples ] || missing_packages+=(sonic-pi-samples)
command -v espeak-ng >/dev/null 2>&1 || missing_packages+=(espeak-ng)
command -v text2wave >/dev/null 2>&1 || missing_packages+=(festival)
# the Festival voices the realistic corpus reads its lines with (scripts/fault_real_sources.py: FESTIVAL)
for voice in ca-ona-hts czech-dita czech-krb czech-machac czech-ph italp16k itapc16k kallpc16k kdlpc16k \
    suopuhe-lj suopuhe-mv us-slt-hts; do
    dpkg -s "festvox-$voice" >/dev/null 2>&1 || missing_packages+=("festvox-$voice")
done
[ -f /usr/share/sounds/alsa/Front_Center.wav ] || missing_packages+=(alsa-utils)
[ -d /usr/share/klettres/en ] || missing_packages+=(klettres-data)
command -v sox >/dev/null 2>&1 || missing_packages+=(sox)
command -v node >/dev/null 2>&1 || missing_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || missing_packages+=(npm)
if [ ${#missing_packages[@]} -gt 0 ]; then
    echo "install-test-deps: installing ${missing_packages[*]} (apt)"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing_packages[@]}"
fi

node_version="$(node -p 'process.versions.node')"
IFS=. read -r node_major node_minor _ <<<"$node_version"
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 10 ]; }; then
    echo "install-test-deps: Node.js $node_version is too old: the TypeScript client test needs 20.10 or later" \
         "(node --experimental-websocket); install a newer nodejs package" >&2
    exit 1
fi

# npm ci only when the installed tree is missing or older than the lock file.
stamp=tests/node/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ tests/node/package-lock.json -nt "$stamp" ]; then
    echo "install-test-deps: npm ci in tests/node"
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "install-test-deps: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), node $node_version," \
     "typescript $(node -p 'require("./tests/node/node_modules/typescript/package.json").version')"
