# Builds build/ares. The ONNX protobuf C code is generated here, at build time, from the
# onnx.proto that Debian's libonnx-dev installs: no schema file lives in the repository.
ONNX_PROTO ?= /usr/include/onnx/onnx.proto
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -std=c11 -ffp-contract=off -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wno-unused-parameter -Wshadow -Wmissing-prototypes -Wno-format-truncation
BUILD := build
# make SAN=1: the same compiler under ASan + UBSan, into build/san/ares (tests/test_malformed.sh)
ifeq ($(SAN),1)
BUILD := build/san
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
endif
GEN := $(BUILD)/gen
SRCS := $(sort $(wildcard src/*/*.c)) runtime/ares_npy.c runtime/ares_tile_plan.c
OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRCS)) $(BUILD)/obj/gen/onnx.pb-c.o
INC := -Isrc -I$(GEN) -Iruntime -DARES_RUNTIME_DIR_DEFAULT='"$(CURDIR)/runtime"'
LIBS := -lprotobuf-c -lm

all: $(BUILD)/ares

$(GEN)/onnx.pb-c.c $(GEN)/onnx.pb-c.h: $(ONNX_PROTO)
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

$(BUILD)/obj/gen/onnx.pb-c.o: $(GEN)/onnx.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(GEN) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(GEN)/onnx.pb-c.h $(wildcard src/*/*.h src/*/*.def runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(INC) -c $< -o $@

$(BUILD)/ares: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $(OBJS) $(LIBS)

clean:
	rm -rf $(BUILD)

.PHONY: all clean

# Generated documentation: the op table from the registry, the fidelity table from the zoo.
docs: $(BUILD)/ares
	$(BUILD)/ares ops --markdown > docs/SUPPORTED_OPERATIONS.md
	@if [ ! -f tests/zoo/resnet18/model.qonnx.onnx ] && [ -x .venv/bin/python ]; then \
	  cd python && ../.venv/bin/python -m ares.zoo resnet18 --dialect qonnx --quiet; fi
	$(BUILD)/ares fidelity tests/zoo > docs/FIDELITY.md

# The performance figures: docs/PERFORMANCE.md and the baseline the rv32 suite checks
# against, from one run of the whole zoo on rv32 (several minutes; BENCH_JOBS networks at
# a time).
BENCH_JOBS ?= 1
bench: $(BUILD)/ares
	$(BUILD)/ares bench tests/zoo --baseline bench/baseline.json --update --markdown docs/PERFORMANCE.md -j$(BENCH_JOBS)

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh

.PHONY: docs bench test demo
