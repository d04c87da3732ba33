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
# `make bench` collects one line per figure here (tab-separated, Benchmarks/lib.sh) and prints them as a table.
BENCH_RESULTS ?=
IDLE_SECONDS ?= 600
STORE_TICKETS ?= 1000000
# bench-store and bench-idle start their own servers on these ports, beside anything else running.
STORE_PORTS ?= IMAP_PORT=13143 IMAPS_PORT=13993 SMTP_PORT=13025
IDLE_PORTS ?= IMAP_PORT=14143 IMAPS_PORT=14993 SMTP_PORT=14025
SHARED ?= ../shared
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SWIFT_TEST_FLAGS ?=

.PHONY: deps build release test soak demo bench bench-answers bench-analyze bench-classify bench-hostile bench-idle bench-ingest bench-parse \
	bench-store fuzz fuzz-mime fuzz-files man install install-check uninstall clean

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

# The long versions: every test with MAILTRIAGE_SOAK=1 (e.g. 100 SIGKILL rounds instead of 10), the MIME fuzzer for
# SOAK_FUZZ_SECONDS (600) and the idle daemon for IDLE_SECONDS (600).
SOAK_FUZZ_SECONDS ?= 600
soak:
	@MAILTRIAGE_SOAK=1 $(MAKE) --no-print-directory test && \
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(SOAK_FUZZ_SECONDS) && \
	$(MAKE) --no-print-directory bench-idle IDLE_SECONDS=$(IDLE_SECONDS)

# A throwaway mail server, the first poll as a baseline, six mails arriving: answers, drafts, an
# acknowledgement, the queue, one ticket, an approval and the stats (Tests/Servers/demo.sh).
demo: build
	@Tests/Servers/demo.sh "$(DEMO_DIR)" "$$(swift build --show-bin-path)"

# Every benchmark in turn (each output also kept in the results directory), then one table: what, our figure, the
# peer's, ratio, target, met. A benchmark that fails is named in the table and makes `make bench` fail.
BENCHES := ingest parse classify answers analyze hostile store idle
bench:
	@R="$(or $(BENCH_RESULTS),$(BENCH_DIR)-results)"; rm -rf "$$R"; mkdir -p "$$R"; status=0; \
	for b in $(BENCHES); do \
	  echo "== make bench-$$b"; \
	  $(MAKE) --no-print-directory bench-$$b BENCH_RESULTS="$$R" 2>&1 | tee "$$R/$$b.out"; \
	  [ "$${PIPESTATUS[0]}" = 0 ] || { status=1; printf 'bench-%s failed\n' "$$b" > "$$R/$$b.failed"; }; \
	done; \
	python3 Benchmarks/summary.py "$$R"; exit $$status

# Classifier figures (issue 4): our eval on the shared datasets beside a scikit-learn peer, and speed.
bench-classify: release
	@python3 -c "import sklearn" 2>/dev/null || pip install -q scikit-learn; \
	Benchmarks/classify.sh "$$(swift build -c release --show-bin-path)" "$(SHARED)"

# Answer quality on realistic mail (issue 12): automatic answers with the right entry, beside scikit-learn.
bench-answers: release
	@python3 -c "import sklearn" 2>/dev/null || pip install -q scikit-learn; \
	Benchmarks/answers.sh "$$(swift build -c release --show-bin-path)" "$(SHARED)"

# `mailtriage analyze` over the shared MIME corpus and generated mbox archives (20,000 and 200,000 messages):
# throughput and peak RSS beside a Python peer (email + scikit-learn on both cores) in the same run.
bench-analyze: release
	@WITH_BENCH=1 Tests/Servers/install-deps.sh; python3 -c "import sklearn" 2>/dev/null || pip install -q scikit-learn; \
	Benchmarks/analyze.sh "$$(swift build -c release --show-bin-path)" "$(SHARED)"

# BENCH_MESSAGES (50000) messages, BENCH_ROUNDS (3) rounds; the servers on BENCH_PORT_BASE+143/+993/+25 (12000).
BENCH_PORT_BASE ?= 12000
BENCH_PORTS = IMAP_PORT=$$(($(BENCH_PORT_BASE)+143)) IMAPS_PORT=$$(($(BENCH_PORT_BASE)+993)) SMTP_PORT=$$(($(BENCH_PORT_BASE)+25))
bench-ingest: release
	@WITH_BENCH=1 Tests/Servers/install-deps.sh; \
	$(BENCH_PORTS) $(SERVERS) stop "$(BENCH_DIR)" >/dev/null 2>&1 || true; rm -rf "$(BENCH_DIR)"; \
	trap '$(BENCH_PORTS) $(SERVERS) stop "$(BENCH_DIR)"' EXIT; \
	$(BENCH_PORTS) $(SERVERS) start "$(BENCH_DIR)" && \
	$(BENCH_PORTS) Benchmarks/ingest.sh "$(BENCH_DIR)" "$$(swift build -c release --show-bin-path)"

# The store at 1,000,000 tickets (STORE_TICKETS): queue list/show and stats latency beside the sqlite3 CLI on the
# same queries, database size, the daemon's RSS with it. The generated store is kept in $(BENCH_DIR)-store.
bench-store: release
	@WITH_BENCH=1 Tests/Servers/install-deps.sh; \
	D="$(BENCH_DIR)-store-servers"; $(STORE_PORTS) $(SERVERS) stop "$$D" >/dev/null 2>&1 || true; rm -rf "$$D"; \
	trap '$(STORE_PORTS) $(SERVERS) stop "'"$$D"'"' EXIT; $(STORE_PORTS) $(SERVERS) start "$$D" >/dev/null && \
	$(STORE_PORTS) STORE_DIR="$(BENCH_DIR)-store" STORE_TICKETS=$(STORE_TICKETS) BENCH_RESULTS="$(BENCH_RESULTS)" \
	  Benchmarks/store.sh "$$D" "$$(swift build -c release --show-bin-path)"

# The idle daemon: 10 mailboxes polled every 30 s for IDLE_SECONDS (600), CPU and RSS, beside a Python imaplib loop.
bench-idle: release
	@WITH_BENCH=1 Tests/Servers/install-deps.sh; \
	D="$(BENCH_DIR)-idle-servers"; $(IDLE_PORTS) $(SERVERS) stop "$$D" >/dev/null 2>&1 || true; rm -rf "$$D"; \
	trap '$(IDLE_PORTS) $(SERVERS) stop "'"$$D"'"' EXIT; $(IDLE_PORTS) $(SERVERS) start "$$D" >/dev/null && \
	$(IDLE_PORTS) IDLE_SECONDS=$(IDLE_SECONDS) BENCH_RESULTS="$(BENCH_RESULTS)" Benchmarks/idle.sh "$$D" "$$(swift build -c release --show-bin-path)"

# MIME parsing with text extraction over the shared corpus, beside Python's email package.
bench-parse: release
	@WITH_BENCH=1 Tests/Servers/install-deps.sh; \
	Benchmarks/parse.sh "$$(swift build -c release --show-bin-path)" "$(SHARED)/datasets/mime"

# Hostile input (issue 15): a 50 MB message, 1,000-level nesting, 100,000 parts, a 1 MB header line, NUL bytes,
# a header only: decided by `mailtriage classify`, with time and peak RSS.
bench-hostile: release
	@WITH_BENCH=1 Tests/Servers/install-deps.sh; \
	Benchmarks/hostile.sh "$$(swift build -c release --show-bin-path)"

# libFuzzer, each target seeded with inputs of ours, a dictionary of its tokens, and the corpus it grew before:
# the MIME parser for FUZZ_SECONDS (our fixtures and the shared corpus), then the TOML loaders (mailtriage.toml,
# rules, service levels: config/), the knowledge-base entry parser (knowledge-base/) and the model-file reader
# (from two small models the fuzz program writes) for a third of that each.
# New inputs go to $(FUZZ_DIR)/<target>, a crashing input to $(FUZZ_DIR)/<target>-crash-*. Swift's own crash
# reporter is off (SWIFT_BACKTRACE): libFuzzer reports the crash, and the reporter could outlive the fuzzer and hold
# the output pipe open.
FUZZ_FLAGS = -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_REPORT = grep -E "^(\#[0-9]+ +DONE|Done|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written|.*Fatal error)"
fuzz: fuzz-mime fuzz-files

fuzz-mime:
	@mkdir -p .build/fuzz "$(FUZZ_DIR)/mime" && \
	swiftc -O -sanitize=fuzzer,address -use-ld=lld -parse-as-library -module-name MIMEFuzz \
	  Sources/TriageMIME/*.swift Fuzz/FuzzMIME.swift -o .build/fuzz/fuzz-mime && \
	echo "fuzz: MIME parser, $(FUZZ_SECONDS) s" && \
	SWIFT_BACKTRACE=enable=no .build/fuzz/fuzz-mime -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) -max_len=262144 \
	  -dict=Fuzz/mime.dict -artifact_prefix="$(FUZZ_DIR)/mime-" \
	  "$(FUZZ_DIR)/mime" Tests/TriageMIMETests/Fixtures "$(SHARED)/datasets/mime" 2>&1 | $(FUZZ_REPORT); \
	  exit $${PIPESTATUS[0]}

# The TOML loaders need TOMLKit (Swift and C++), so this target is built by SwiftPM with the fuzzer (its own
# scratch directory; --export-dynamic lets the program find libFuzzer's driver, see Fuzz/Files/main.swift).
# Leak detection is off for the configuration: TOMLKit 0.6 never frees the toml++ tables it creates (TOMLTable
# has no deinit), about 100 bytes a table each time a file is read (start-up, SIGHUP), which is not ours to fix.
fuzz-files:
	@mkdir -p "$(FUZZ_DIR)/config" "$(FUZZ_DIR)/knowledge" && \
	swift build -c release --product mailtriage-fuzz --scratch-path .build/fuzz-files \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xlinker --export-dynamic >/dev/null && \
	bin="$$(swift build -c release --scratch-path .build/fuzz-files --show-bin-path 2>/dev/null)/mailtriage-fuzz" && \
	secs=$$(( $(FUZZ_SECONDS) / 3 > 5 ? $(FUZZ_SECONDS) / 3 : 5 )) && \
	echo "fuzz: configuration loaders, $$secs s" && \
	{ SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 FUZZ_TARGET=config "$$bin" -max_total_time=$$secs $(FUZZ_FLAGS) -detect_leaks=0 -max_len=16384 -dict=Fuzz/toml.dict \
	  -artifact_prefix="$(FUZZ_DIR)/config-" "$(FUZZ_DIR)/config" config 2>&1 | $(FUZZ_REPORT); \
	  [ $${PIPESTATUS[0]} = 0 ]; } && \
	echo "fuzz: knowledge-base entries, $$secs s" && \
	{ SWIFT_BACKTRACE=enable=no FUZZ_TARGET=knowledge "$$bin" -max_total_time=$$secs $(FUZZ_FLAGS) -max_len=16384 -dict=Fuzz/knowledge.dict \
	  -artifact_prefix="$(FUZZ_DIR)/knowledge-" "$(FUZZ_DIR)/knowledge" knowledge-base/*/ 2>&1 | $(FUZZ_REPORT); \
	  [ $${PIPESTATUS[0]} = 0 ]; } && \
	echo "fuzz: model files, $$secs s" && \
	mkdir -p "$(FUZZ_DIR)/model" "$(FUZZ_DIR)/model-seeds" && FUZZ_TARGET=model-seeds "$$bin" "$(FUZZ_DIR)/model-seeds" && \
	{ SWIFT_BACKTRACE=enable=no FUZZ_TARGET=model "$$bin" -max_total_time=$$secs $(FUZZ_FLAGS) -max_len=1048576 \
	  -artifact_prefix="$(FUZZ_DIR)/model-" "$(FUZZ_DIR)/model" "$(FUZZ_DIR)/model-seeds" 2>&1 | $(FUZZ_REPORT); \
	  [ $${PIPESTATUS[0]} = 0 ]; }

# The man page, from the command-line definitions (swift-argument-parser's GenerateManual plugin).
MANPAGE := .build/plugins/GenerateManual/outputs/mailtriage/mailtriage.1
man: release
	@swift package --allow-writing-to-package-directory generate-manual --configuration release >/dev/null

# PREFIX for the program, its data and man page; SYSCONFDIR (/etc) for the configuration, which is never
# overwritten, the unit, sysusers.d and tmpfiles.d; DESTDIR for staging.
install: release man
	@set -e; BIN="$$(swift build -c release --show-bin-path)"; \
	install -D -m 0755 "$$BIN/mailtriage" "$(DESTDIR)$(PREFIX)/bin/mailtriage"; \
	install -D -m 0644 $(MANPAGE) "$(DESTDIR)$(PREFIX)/share/man/man1/mailtriage.1"; \
	mkdir -p "$(DESTDIR)$(PREFIX)/share/bash-completion/completions" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions" \
	  "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d"; \
	"$$BIN/mailtriage" --generate-completion-script bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/mailtriage"; \
	"$$BIN/mailtriage" --generate-completion-script zsh > "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mailtriage"; \
	"$$BIN/mailtriage" --generate-completion-script fish > "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mailtriage.fish"; \
	sed -e "s#/usr/local/bin/#$(PREFIX)/bin/#g" -e "s#/etc/mailtriage/#$(SYSCONFDIR)/mailtriage/#g" config/mailtriage.service \
	  > .build/mailtriage.service; \
	install -D -m 0644 .build/mailtriage.service "$(DESTDIR)$(SYSCONFDIR)/systemd/system/mailtriage.service"; \
	install -D -m 0644 config/mailtriage.sysusers "$(DESTDIR)$(SYSCONFDIR)/sysusers.d/mailtriage.conf"; \
	install -D -m 0644 config/mailtriage.tmpfiles "$(DESTDIR)$(SYSCONFDIR)/tmpfiles.d/mailtriage.conf"; \
	rm -rf "$(DESTDIR)$(PREFIX)/share/mailtriage/knowledge-base"; \
	mkdir -p "$(DESTDIR)$(PREFIX)/share/mailtriage" && cp -R knowledge-base "$(DESTDIR)$(PREFIX)/share/mailtriage/knowledge-base"; \
	mkdir -p "$(DESTDIR)$(SYSCONFDIR)/mailtriage"; \
	if [ ! -e "$(DESTDIR)$(SYSCONFDIR)/mailtriage/mailtriage.toml" ]; then \
	  kb="$$(realpath -m --relative-to="$(SYSCONFDIR)/mailtriage" "$(PREFIX)/share/mailtriage/knowledge-base")"; \
	  sed -e "s#^knowledge_base = .*#knowledge_base = \"$$kb\"   \# $(PREFIX)/share/mailtriage/knowledge-base, relative to this file#" config/mailtriage.toml \
	    > "$(DESTDIR)$(SYSCONFDIR)/mailtriage/mailtriage.toml"; chmod 0644 "$(DESTDIR)$(SYSCONFDIR)/mailtriage/mailtriage.toml"; \
	else echo "kept the existing $(SYSCONFDIR)/mailtriage/mailtriage.toml"; fi; \
	for f in rules.toml service-levels.toml; do \
	  if [ ! -e "$(DESTDIR)$(SYSCONFDIR)/mailtriage/$$f" ]; then install -m 0644 "config/$$f" "$(DESTDIR)$(SYSCONFDIR)/mailtriage/$$f"; \
	  else echo "kept the existing $(SYSCONFDIR)/mailtriage/$$f"; fi; done; \
	if [ -z "$(DESTDIR)" ] && [ "$(SYSCONFDIR)" = /etc ]; then \
	  command -v systemd-sysusers >/dev/null && systemd-sysusers /etc/sysusers.d/mailtriage.conf || true; \
	  command -v systemd-tmpfiles >/dev/null && systemd-tmpfiles --create /etc/tmpfiles.d/mailtriage.conf || true; \
	fi; \
	echo "installed; edit /etc/mailtriage/mailtriage.toml, then: systemctl daemon-reload && systemctl enable --now mailtriage"

# A staged install (DESTDIR, a temporary directory): the installed binary accepts the installed
# example configuration, the man page renders, the unit verifies and its exposure stays at 2.5 or lower, and
# `make uninstall` leaves only the configuration.
install-check:
	@set -e; D="$$(mktemp -d)"; trap 'rm -rf "$$D"' EXIT; \
	$(MAKE) -s install DESTDIR="$$D" >/dev/null; \
	"$$D$(PREFIX)/bin/mailtriage" check-config --config "$$D/etc/mailtriage/mailtriage.toml"; \
	man -l "$$D$(PREFIX)/share/man/man1/mailtriage.1" | grep -q "mailtriage"; echo "man page: OK"; \
	sed -e "s#$(PREFIX)/bin/#$$D$(PREFIX)/bin/#g" "$$D/etc/systemd/system/mailtriage.service" > "$$D/mailtriage.service"; \
	MANPATH="$$D$(PREFIX)/share/man" systemd-analyze verify "$$D/mailtriage.service"; echo "systemd-analyze verify: OK"; \
	score=$$(systemd-analyze security --offline=yes "$$D/mailtriage.service" | sed -n 's/.*exposure level for mailtriage.service: \([0-9.]*\).*/\1/p'); \
	echo "systemd-analyze security: exposure $$score"; awk -v s="$$score" 'BEGIN { exit !(s != "" && s <= 2.5) }'; \
	rm "$$D/mailtriage.service"; \
	$(MAKE) -s uninstall DESTDIR="$$D" >/dev/null; \
	left=$$(cd "$$D" && find . -type f | sort | tr '\n' ' '); \
	[ "$$left" = "./etc/mailtriage/mailtriage.toml ./etc/mailtriage/rules.toml ./etc/mailtriage/service-levels.toml " ] || { echo "left after uninstall: $$left"; exit 1; }; \
	echo "install-check: OK"

# Removes what `make install` put in place; the configuration (/etc/mailtriage) and the state
# (/var/lib/mailtriage: tickets) stay, and so do the user and group.
uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/mailtriage" "$(DESTDIR)$(PREFIX)/share/man/man1/mailtriage.1" \
	  "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/mailtriage" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mailtriage" \
	  "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mailtriage.fish" "$(DESTDIR)$(SYSCONFDIR)/systemd/system/mailtriage.service" \
	  "$(DESTDIR)$(SYSCONFDIR)/sysusers.d/mailtriage.conf" "$(DESTDIR)$(SYSCONFDIR)/tmpfiles.d/mailtriage.conf"
	rm -rf "$(DESTDIR)$(PREFIX)/share/mailtriage"
	@echo "removed; kept /etc/mailtriage (configuration), /var/lib/mailtriage (tickets) and the mailtriage user"

clean:
	rm -rf .build "$(MAILTEST_DIR)" "$(DEMO_DIR)" "$(BENCH_DIR)" "$(BENCH_DIR)-store" "$(BENCH_DIR)-results"
