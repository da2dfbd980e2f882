# Cross build for 32-bit ARM Linux with hardware float (Raspberry Pi 2/3/4
# with a 32-bit OS) using Debian's gcc-arm-linux-gnueabihf. NEON with VFPv4
# (fused multiply-add) is required: arch/arm/neon32 is compiled in.

CROSS ?= arm-linux-gnueabihf-
ifeq ($(origin CC),default)
CC := $(CROSS)gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS)ar
endif
STRIP ?= $(CROSS)strip

# armv7-a + neon-vfpv4 covers Cortex-A7 (Pi 2), and the A53/A72 running a
# 32-bit OS. -mcpu can be given instead through MCPU for scheduling, e.g.
# MCPU=cortex-a7; armv7-a with neon-vfpv4 keeps the binary fleet-wide.
# -mfloat-abi=hard matches the Debian/Raspberry Pi OS armhf ABI.
MCPU ?=
PORT_CFLAGS ?= -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard $(if $(MCPU),-mtune=$(MCPU))

PORT_ARCH_DIRS := arch/arm/neon32

PORT_LDFLAGS ?=
PORT_EXE_LDFLAGS ?= -static

RUNNER ?= qemu-arm
