# Cross build for 64-bit RISC-V Linux (rv64gc) with Debian's
# gcc-riscv64-linux-gnu. No SIMD kernels: it runs the generic C reference
# kernels, which proves the portable path on a third ISA.

CROSS ?= riscv64-linux-gnu-
ifeq ($(origin CC),default)
CC := $(CROSS)gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS)ar
endif
STRIP ?= $(CROSS)strip

# rv64gc with the lp64d ABI is what Debian riscv64 and the common boards
# (VisionFive 2, Milk-V, HiFive) run.
PORT_CFLAGS ?= -march=rv64gc -mabi=lp64d

PORT_ARCH_DIRS :=

PORT_LDFLAGS ?=
PORT_EXE_LDFLAGS ?= -static

RUNNER ?= qemu-riscv64
