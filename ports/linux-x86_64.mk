# Host build: x86-64 Linux, native toolchain. Tests run directly.
CC ?= cc
PORT_CFLAGS ?=
PORT_LDFLAGS ?=
RUNNER ?=
# Used by `make size`.
STRIP ?= strip
# Executables link like the libraries (dynamically) on the host.
PORT_EXE_LDFLAGS ?=
