# rtml — the two commands (see README.md) and a few conveniences. The build itself is CMake's (build/).
.PHONY: all setup build install test demo bench clean kafka-start kafka-stop

all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j2

# Build if needed, then install into PREFIX (default /usr/local; DESTDIR=DIR stages it under DIR): bin/rtml
# (stripped), the man page, docs and examples, the systemd unit rtml@.service, etc/default/rtml and etc/rtml
# (/etc when PREFIX is /usr). The .deb: `cd build && cpack`. docs/operations.md, Installing.
PREFIX ?= /usr/local
install: build
	@cmake --install build --prefix "$(PREFIX)" --strip

# Set-up, build, unit + CLI + integration tests (real broker), the sanitizer build, a short fuzz run.
test:
	@bash scripts/test.sh

# Set-up, a local broker, 200k generated records with a drift through `rtml run`, a summary. Ends by itself.
demo:
	@bash scripts/demo.sh

# Benchmarks (bench/run.sh): topic to topic beside a librdkafka passthrough and Python + River, engines beside River and Vowpal Wabbit, TensorFlow beside Keras, workers and instances; results in bench/results/
bench:
	@bash bench/run.sh

kafka-start:
	@bash scripts/kafka.sh start

kafka-stop:
	@bash scripts/kafka.sh stop

clean:
	rm -rf build build-asan build-fuzz
