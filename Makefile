# shoal: convenience wrapper around CMake. Quick start on a fresh Debian 12:
#   make demo    install what is missing, build, run examples/fib.wat and examples/wordfreq.c
#   make check   install what is missing, build (plain and ASan+UBSan), run every test
# Other targets: build, fuzz, fuzz-wasi, fuzz-component and fuzz-wave (FUZZ_SECONDS=600), diff-fuzz (SEEDS=2000),
# bench (bench/RESULTS.md), deps, clean.

JOBS ?= 2
FUZZ_SECONDS ?= 600
CMAKE ?= cmake

.PHONY: all deps build build-asan check clean-summary demo fuzz fuzz-wasi fuzz-component fuzz-wave diff-fuzz bench bench-http clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build build -j$(JOBS)

# Debug keeps assert(); -O1 keeps the sanitized spec run fast enough.
build-asan: deps
	$(CMAKE) -S . -B build-asan -DSHOAL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
	  "-DCMAKE_C_FLAGS_DEBUG=-g -O1"
	$(CMAKE) --build build-asan -j$(JOBS)

# Last line: "N passed, M failed" summed over both builds (scripts/run-tests.sh),
# also kept in build/test-summary.txt (on failure make adds its own error line).
check: clean-summary build build-asan
	@JOBS=$(JOBS) SUMMARY_FILE=build/test-summary.txt bash scripts/run-tests.sh build build-asan

clean-summary:
	@rm -f build/test-summary.txt

demo: build
	./build/shoal run build/examples/fib.wasm --invoke fib 30
	./build/shoal run --dir examples/data::/data build/examples/wordfreq.wasm /data/gettysburg.txt
	@# shoal serve: the C wasi:http hello component (tests/host), one page fetched with curl
	@./build/shoal serve --addr 127.0.0.1:0 build/host/http_hello.wasm > build/serve-demo.txt & pid=$$!; \
	for i in $$(seq 100); do grep -q port build/serve-demo.txt 2>/dev/null && break; sleep 0.1; done; \
	port=$$(sed -n 's/listening on port \([0-9]*\).*/\1/p' build/serve-demo.txt); \
	echo "curl -s http://127.0.0.1:$$port/"; curl -s http://127.0.0.1:$$port/; rc=$$?; \
	kill -TERM $$pid; wait $$pid; exit $$rc

# libFuzzer on the module decoder, validator, instantiation and calls, seeded
# with every module wast2json makes from the non-SIMD spec tests.
fuzz: deps
	$(CMAKE) -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSHOAL_FUZZ=ON -DSHOAL_WERROR=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build build-fuzz -j$(JOBS) --target fuzz_module spec_json
	rm -rf build-fuzz/seeds && mkdir -p build-fuzz/seeds build-fuzz/corpus build-fuzz/crashes
	find build-fuzz/spec -name '*.wasm' -exec cp -t build-fuzz/seeds {} +
	@echo "fuzzing for $(FUZZ_SECONDS)s with $$(ls build-fuzz/seeds | wc -l) seeds; new inputs in build-fuzz/corpus, crashes in build-fuzz/crashes"
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ./build-fuzz/tests/fuzz_module -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	  -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=build-fuzz/crashes/ \
	  build-fuzz/corpus build-fuzz/seeds

# libFuzzer on the WASI host functions: fuzzer-chosen pointers, lengths, fds
# and flags into every wasi_snapshot_preview1 import (tests/fuzz/fuzz_wasi.c).
fuzz-wasi: deps
	$(CMAKE) -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSHOAL_FUZZ=ON -DSHOAL_WERROR=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build build-fuzz -j$(JOBS) --target fuzz_wasi
	mkdir -p build-fuzz/corpus-wasi build-fuzz/crashes-wasi
	@echo "fuzzing WASI for $(FUZZ_SECONDS)s; new inputs in build-fuzz/corpus-wasi, crashes in build-fuzz/crashes-wasi"
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ./build-fuzz/tests/fuzz_wasi -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	  -max_len=1024 -len_control=0 -rss_limit_mb=4096 -print_final_stats=1 \
	  -artifact_prefix=build-fuzz/crashes-wasi/ \
	  build-fuzz/corpus-wasi

# libFuzzer on the component decoder, validator, WIT printer, instantiation
# and calls (tests/fuzz/fuzz_component.c), seeded with the test components
# (without the 12 MB JavaScript ones).
fuzz-component: deps
	$(CMAKE) -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSHOAL_FUZZ=ON -DSHOAL_WERROR=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build build-fuzz -j$(JOBS) --target fuzz_component component_wasm
	rm -rf build-fuzz/cseeds && mkdir -p build-fuzz/cseeds build-fuzz/corpus-component build-fuzz/crashes-component
	find build-fuzz/component -maxdepth 1 -name '*.wasm' ! -name '*.core.wasm' ! -name '*.embed.wasm' \
	  -size -1000k -exec cp -t build-fuzz/cseeds {} +
	@echo "fuzzing components for $(FUZZ_SECONDS)s with $$(ls build-fuzz/cseeds | wc -l) seeds; crashes in build-fuzz/crashes-component"
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ./build-fuzz/tests/fuzz_component -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	  -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=build-fuzz/crashes-component/ \
	  build-fuzz/corpus-component build-fuzz/cseeds

# libFuzzer on WAVE parsing and printing against fuzzer-chosen types
# (tests/fuzz/fuzz_wave.c), seeded with tests/fuzz/wave_seeds.
fuzz-wave: deps
	$(CMAKE) -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSHOAL_FUZZ=ON -DSHOAL_WERROR=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build build-fuzz -j$(JOBS) --target fuzz_wave
	mkdir -p build-fuzz/corpus-wave build-fuzz/crashes-wave
	@echo "fuzzing WAVE for $(FUZZ_SECONDS)s; crashes in build-fuzz/crashes-wave"
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ./build-fuzz/tests/fuzz_wave -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	  -max_len=4096 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=build-fuzz/crashes-wave/ \
	  build-fuzz/corpus-wave tests/fuzz/wave_seeds

# Differential test against binaryen's interpreter on seeds SEED0..SEED0+SEEDS-1
# (ctest diff.binaryen runs seeds 0..199); mismatching seeds' files stay in
# build/diff-fuzz/seed-N. See docs/fuzzing.md.
SEEDS ?= 2000
SEED0 ?= 0
diff-fuzz: build
	python3 tests/diff/diff.py --driver build/tests/diff/diff_driver --jobs $(JOBS) \
	  --seeds $(SEED0):$$(($(SEED0) + $(SEEDS))) --known tests/diff/known_failures.txt \
	  --work build/diff-fuzz

# Benchmarks (not part of check): suite + calibration programs on native, shoal and
# node; writes bench/RESULTS.md and bench/chart.svg. BENCH_RUNS=N, BENCH_ONLY=a,b: bench/bench.py.
# WERROR off: gcc -O3 warns (maybe-uninitialized) where make check's -O2 does not.
BENCH_BUILD_TYPE ?= Release
bench: deps
	@bash bench/deps.sh
	$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=$(BENCH_BUILD_TYPE) -DSHOAL_WERROR=OFF
	$(CMAKE) --build build-bench -j$(JOBS) --target bench_all
	BENCH_BUILD_TYPE=$(BENCH_BUILD_TYPE) python3 bench/bench.py build-bench

# shoal serve against jco serve and a native libmicrohttpd server (wrk, 127.0.0.1), instantiation
# rate, 10,000 requests in flight; writes bench/http/RESULTS.md, bench/http/chart.svg and the
# bench-http section of bench/RESULTS.md. WRK_SECONDS=10, DENSITY=10000: bench/http/bench_http.py.
bench-http: deps
	@bash bench/http/deps.sh
	$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=$(BENCH_BUILD_TYPE) -DSHOAL_WERROR=OFF
	$(CMAKE) --build build-bench -j$(JOBS) --target bench_http_all
	python3 bench/http/bench_http.py build-bench

clean:
	rm -rf build build-asan build-fuzz build-bench
