# Cross build for 64-bit ARM Linux (Raspberry Pi 3/4/5 with a 64-bit OS,
# Jetson CPUs, custom boards) with Debian's gcc-aarch64-linux-gnu. NEON is
# part of the A64 base ISA, so arch/arm/neon64 is always compiled in.

CROSS ?= aarch64-linux-gnu-
# make's built-in CC/AR are "cc"/"ar"; replace them unless the user chose.
ifeq ($(origin CC),default)
CC := $(CROSS)gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS)ar
endif
STRIP ?= $(CROSS)strip

# MCPU tunes scheduling and enables the core's extensions; the binary still
# runs on any ARMv8-A core when MCPU=generic (the default), so one build
# serves a whole fleet. Choices that matter for our users:
#   cortex-a53  Raspberry Pi 3, Pi Zero 2 W  (in-order, one 64-bit FMA pipe)
#   cortex-a72  Raspberry Pi 4, CM4          (out-of-order, 2 x 128-bit FP)
#   cortex-a76  Raspberry Pi 5, CM5          (out-of-order, 2 x 128-bit FMA)
#   cortex-a57  Jetson Nano/TX1/TX2 CPU; cortex-a78ae: Jetson Orin
# e.g. make PORT=linux-aarch64 MCPU=cortex-a72
MCPU ?= generic
PORT_CFLAGS ?= -mcpu=$(MCPU)

# arch/arm/neon64 is added by the Makefile for every aarch64 compiler.

# Executables are linked statically: they run under qemu-user without a
# sysroot and on any board regardless of its glibc version. The libraries
# themselves stay ordinary .a/.so files.
PORT_LDFLAGS ?=
PORT_EXE_LDFLAGS ?= -static

# How tests run on this x86 host (Debian qemu-user). Empty on a real board.
RUNNER ?= qemu-aarch64
