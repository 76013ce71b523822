#!/bin/sh
# Regenerates the build system: configure, Makefile.in and the automake helpers.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf --install --force
