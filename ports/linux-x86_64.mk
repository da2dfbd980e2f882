# Host build: x86-64 Linux, native toolchain. Tests run directly.
CC ?= cc
PORT_CFLAGS ?=
PORT_LDFLAGS ?=
RUNNER ?=
