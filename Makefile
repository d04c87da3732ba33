# mailtriage: the two commands are `make demo` and `make test`; `make bench` measures, `make install` deploys.
SHELL := /bin/bash
SERVERS := Tests/Servers/mailservers.sh
# Server directories live under /tmp: Dovecot runs as an unprivileged user, which must be able to reach
# them (a checkout under a 0700 directory would not be).
UID_ := $(shell id -u)
MAILTEST_DIR ?= /tmp/mailtriage-test-$(UID_)
DEMO_DIR ?= /tmp/mailtriage-demo-$(UID_)
BENCH_DIR ?= /tmp/mailtriage-bench-$(UID_)
FUZZ_DIR ?= /tmp/mailtriage-fuzz-$(UID_)
FUZZ_SECONDS ?= 60
SHARED ?= ../shared
PREFIX ?= /usr/local
SWIFT_TEST_FLAGS ?=

.PHONY: deps build release test demo bench bench-ingest bench-parse fuzz install clean

deps:
	@Tests/Servers/install-deps.sh

build: deps
	swift build

release: deps
	swift build -c release

# Starts Dovecot and the SMTP receiver on 127.0.0.1, runs every test against them, stops them. The unit tests
# run first and apart: the integration tests wait on processes and servers, and would hold the threads that
# the services under unit test need.
test: build
	@$(SERVERS) stop "$(MAILTEST_DIR)" >/dev/null 2>&1 || true; rm -rf "$(MAILTEST_DIR)"; \
	trap '$(SERVERS) stop "$(MAILTEST_DIR)"' EXIT; \
	$(SERVERS) start "$(MAILTEST_DIR)" || exit 1; \
	export MAILTEST_DIR="$(MAILTEST_DIR)" MAILTRIAGE_BIN="$$(swift build --show-bin-path)/mailtriage"; \
	if [ -n "$(SWIFT_TEST_FLAGS)" ]; then swift test $(SWIFT_TEST_FLAGS); else \
	  swift test --skip IntegrationTests && swift test --filter IntegrationTests; fi

# A throwaway mail server, the first poll as a baseline, six mails arriving: answers, drafts, an
# acknowledgement, the queue, one ticket, an approval and the stats (Tests/Servers/demo.sh).
demo: build
	@Tests/Servers/demo.sh "$(DEMO_DIR)" "$$(swift build --show-bin-path)"

# Ingest throughput against the local Dovecot, beside Python's imaplib in the same run.
bench: bench-ingest bench-parse bench-classify

# Classifier figures (issue 4): our eval on the shared datasets beside a scikit-learn peer, and speed.
bench-classify: release
	@python3 -c "import sklearn" 2>/dev/null || pip install -q scikit-learn; \
	Benchmarks/classify.sh "$$(swift build -c release --show-bin-path)" "$(SHARED)"

bench-ingest: release
	@WITH_BENCH=1 Tests/Servers/install-deps.sh; \
	IMAP_PORT=12143 IMAPS_PORT=12993 SMTP_PORT=12025 $(SERVERS) stop "$(BENCH_DIR)" >/dev/null 2>&1 || true; rm -rf "$(BENCH_DIR)"; \
	trap 'IMAP_PORT=12143 IMAPS_PORT=12993 SMTP_PORT=12025 $(SERVERS) stop "$(BENCH_DIR)"' EXIT; \
	IMAP_PORT=12143 IMAPS_PORT=12993 SMTP_PORT=12025 $(SERVERS) start "$(BENCH_DIR)" && \
	Benchmarks/ingest.sh "$(BENCH_DIR)" "$$(swift build -c release --show-bin-path)"

# MIME parsing with text extraction over the shared corpus, beside Python's email package.
bench-parse: release
	@WITH_BENCH=1 Tests/Servers/install-deps.sh; \
	Benchmarks/parse.sh "$$(swift build -c release --show-bin-path)" "$(SHARED)/datasets/mime"

# libFuzzer over the MIME parser, seeded with our fixtures and the shared corpus (FUZZ_SECONDS=60).
# New inputs go to $(FUZZ_DIR)/corpus, a crashing input to $(FUZZ_DIR)/crash-*.
fuzz:
	@mkdir -p .build/fuzz "$(FUZZ_DIR)/corpus" && \
	swiftc -O -sanitize=fuzzer,address -use-ld=lld -parse-as-library -module-name MIMEFuzz \
	  Sources/TriageMIME/*.swift Fuzz/FuzzMIME.swift -o .build/fuzz/fuzz-mime && \
	.build/fuzz/fuzz-mime -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
	  -dict=Fuzz/mime.dict -print_final_stats=1 -artifact_prefix="$(FUZZ_DIR)/" \
	  "$(FUZZ_DIR)/corpus" Tests/TriageMIMETests/Fixtures "$(SHARED)/datasets/mime" 2>&1 | \
	  grep -E "^(#[0-9]+ +DONE|Done|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written|.*Fatal error)" ; \
	  exit $${PIPESTATUS[0]}

install: release
	install -D -m 0755 "$$(swift build -c release --show-bin-path)/mailtriage" "$(DESTDIR)$(PREFIX)/bin/mailtriage"
	install -D -m 0644 config/mailtriage.service "$(DESTDIR)/etc/systemd/system/mailtriage.service"
	install -D -m 0644 config/mailtriage.sysusers "$(DESTDIR)/etc/sysusers.d/mailtriage.conf"
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then systemd-sysusers /etc/sysusers.d/mailtriage.conf; fi
	@if [ ! -e "$(DESTDIR)/etc/mailtriage/mailtriage.toml" ]; then \
		install -D -m 0644 config/mailtriage.toml "$(DESTDIR)/etc/mailtriage/mailtriage.toml"; fi
	@if [ ! -e "$(DESTDIR)/etc/mailtriage/rules.toml" ]; then \
		install -D -m 0644 config/rules.toml "$(DESTDIR)/etc/mailtriage/rules.toml"; fi
	@if [ ! -e "$(DESTDIR)/etc/mailtriage/service-levels.toml" ]; then \
		install -D -m 0644 config/service-levels.toml "$(DESTDIR)/etc/mailtriage/service-levels.toml"; fi
	rm -rf "$(DESTDIR)$(PREFIX)/share/mailtriage/knowledge-base"
	mkdir -p "$(DESTDIR)$(PREFIX)/share/mailtriage" && cp -R knowledge-base "$(DESTDIR)$(PREFIX)/share/mailtriage/knowledge-base"
	@echo "installed; edit /etc/mailtriage/mailtriage.toml, then: systemctl daemon-reload && systemctl enable --now mailtriage"

clean:
	rm -rf .build "$(MAILTEST_DIR)" "$(DEMO_DIR)" "$(BENCH_DIR)"
