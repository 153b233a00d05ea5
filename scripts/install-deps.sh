#!/usr/bin/env bash
# Installs the Debian 12 packages Impasto needs to build, test and run.
# Only missing packages are installed; uses sudo when not run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-openmp libdnnl-dev
  libopencv-dev
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libqt6svg6 qt6-image-formats-plugins
  libgl1-mesa-dev
  libgtest-dev libgmock-dev libcli11-dev
  nlohmann-json3-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libzip-dev
  python3 xvfb xauth
  dpkg-dev file  # cpack -G DEB: dpkg-shlibdeps computes the package's Depends
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer and clang's sanitizer runtimes
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "All build dependencies are installed."
fi
