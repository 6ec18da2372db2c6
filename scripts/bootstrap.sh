#!/usr/bin/env bash
# Set-up shared by ./run and ./test. Sourced, not executed.
#  1. installs missing system libraries (libmpv, Xvfb, Qt's X11 deps) on Debian/Ubuntu;
#  2. picks a supported Python (3.12 or 3.13 preferred, 3.11 accepted);
#  3. creates .venv and installs the project into it, only when pyproject.toml changed.
# Re-running does no work when nothing changed (a dpkg query and a hash compare).

MARQUEE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MARQUEE_VENV:-$MARQUEE_ROOT/.venv}"

say() { printf '[marquee] %s\n' "$*" >&2; }

# Debian/Ubuntu packages: libmpv (decoder), Xvfb (headless tests), and the X11/GL
# libraries Qt's xcb and offscreen platforms load at run time.
SYSTEM_PACKAGES_COMMON=(xvfb xauth libgl1 libegl1 libfontconfig1 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xfixes0
  libxcb-xkb1 libglib2.0-0)

install_system_packages() {
  [ "$(uname -s)" = "Linux" ] || return 0
  command -v dpkg-query >/dev/null 2>&1 || { say "not a Debian/Ubuntu system: install libmpv and Xvfb with your package manager (see README)"; return 0; }
  local libmpv=libmpv2
  if ! apt-cache show libmpv2 >/dev/null 2>&1 && apt-cache show libmpv1 >/dev/null 2>&1; then libmpv=libmpv1; fi
  local wanted=("$libmpv" "${SYSTEM_PACKAGES_COMMON[@]}") missing=()
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  # libmpv1 and libmpv2 are alternatives: either one is enough.
  if [[ " ${missing[*]} " == *" $libmpv "* ]] && ldconfig -p 2>/dev/null | grep -q 'libmpv\.so'; then
    missing=("${missing[@]/$libmpv}")
  fi
  local todo=()
  for pkg in "${missing[@]}"; do [ -n "$pkg" ] && todo+=("$pkg"); done
  [ "${#todo[@]}" -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      say "missing system packages: ${todo[*]}"
      say "install them as root: apt-get install ${todo[*]}"
      return 1
    fi
  fi
  say "installing system packages: ${todo[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${todo[@]}" >/dev/null
}

python_ok() {  # usable interpreter of version >= 3.11?
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

pick_python() {
  if [ -n "${MARQUEE_PYTHON:-}" ]; then echo "$MARQUEE_PYTHON"; return; fi
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}" cand
  # 3.12 first: PySide6 6.12 is broken on 3.11, and 3.12/3.13 get the newest Qt.
  for cand in python3.12 "$pyenv_root"/versions/3.12*/bin/python3.12 python3.13 \
              "$pyenv_root"/versions/3.13*/bin/python3.13 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && python_ok "$cand"; then command -v "$cand"; return; fi
  done
  say "no Python 3.11 or newer found; install one (apt-get install python3) or set MARQUEE_PYTHON"
  return 1
}

ensure_venv() {  # $1: pip extras spec, e.g. ".[test]" or "."
  local spec="$1" py
  if [ ! -x "$VENV/bin/python" ]; then
    py="$(pick_python)" || return 1
    say "creating virtual environment with $("$py" --version 2>&1) in $VENV"
    if ! "$py" -m venv "$VENV" 2>/dev/null; then
      # Debian ships venv separately.
      local ver; ver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
      say "python venv module missing; installing python${ver}-venv"
      local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${ver}-venv" python3-venv >/dev/null || return 1
      rm -rf "$VENV"; "$py" -m venv "$VENV" || return 1
    fi
  fi
  local stamp="$VENV/.marquee-installed"
  local want; want="$(cat "$MARQUEE_ROOT/pyproject.toml" | sha256sum | cut -c1-16) $spec"
  if [ -f "$stamp" ] && grep -qxF "$want" "$stamp"; then return 0; fi
  say "installing Python dependencies ($spec)"
  local log="$VENV/pip-install.log"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >"$log" 2>&1
  if ! (cd "$MARQUEE_ROOT" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec") >>"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" >&2  # pip's complaint, without the noise of unused indexes
    say "installing the Python dependencies failed (log: $log)"
    return 1
  fi
  echo "$want" >> "$stamp"
}
