# Ferry's make targets. `make demo` and `make test` do all their own set-up
# on a fresh Debian machine: packages, Kubernetes components (built once
# into the cache, 8-14 minutes cold on 2 cores), images and clusters.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
LC_DIR := test/localclusters
LC_BIN := .localclusters/bin/localclusters
LC := $(LC_BIN) --repo $(CURDIR)
KUBECTL := .localclusters/bin/kubectl
STATICCHECK_VERSION := v0.8.2
export FERRY_CACHE ?= $(HOME)/.cache/ferry
export GOFLAGS ?=

.PHONY: all generate build test unit envtest-assets s3-server e2e testbed-checks testbed-e2e demo lint bench bench-go bench-resources bench-mover bench-repository bench-downtime bench-postgres bench-images deps tool \
	clusters-up clusters-down clusters-status images leftovers clean console-assets console-unit console-test browser-deps

all: build

CONTROLLER_GEN := $(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0

## generate: deepcopy functions and CRDs from api/v1alpha1
generate:
	$(CONTROLLER_GEN) object paths=./api/... crd:maxDescLen=200 output:crd:artifacts:config=config/crd

## build: the ferry binary in bin/, also as the kubectl plugin kubectl-ferry
build: console-assets
	$(GO) build -o bin/ferry ./cmd/ferry
	ln -sf ferry bin/kubectl-ferry

# The web console (web/, React and PatternFly) is built by Vite into
# internal/console/assets/dist, which the binary embeds. npm ci runs again
# only when the lockfile changes (its stamp lives in web/node_modules, so
# removing that folder runs it again); the build runs again only when a
# source changes or dist lost its index.html.
CONSOLE_DIST := internal/console/assets/dist/index.html
NPM_STAMP := web/node_modules/.stamp-npm-ci
WEB_SOURCES := $(shell find web/src -type f -not -name '*.test.ts' 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

## console-assets: the web console's assets, built into internal/console/assets/dist
console-assets: $(CONSOLE_DIST)

$(NPM_STAMP): web/package-lock.json web/package.json
	@bash hack/deps.sh node
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE_DIST): $(NPM_STAMP) $(WEB_SOURCES)
	cd web && node_modules/.bin/tsc --noEmit -p . && node_modules/.bin/vite build --logLevel warn
	touch $@

## console-unit: the console's unit tests (vitest: timeline, rates, paging, event reducer, plan drafts)
console-unit: $(NPM_STAMP)
	cd web && node_modules/.bin/vitest run

## console-test: the console in headless Chromium (playwright-core, axe-core) against
## FERRY_CONSOLE_URL, or a `ferry console` started on the local clusters' host (dst)
console-test: build browser-deps
	bash hack/console-test.sh

## deps: Debian packages the test bed needs
deps:
	@bash hack/deps.sh

tool:
	@cd $(LC_DIR) && $(GO) build -o $(CURDIR)/$(LC_BIN) ./cmd/localclusters

## clusters-up: start the local clusters src and dst (a no-op when they run)
clusters-up: deps tool
	$(LC) up

## clusters-down: stop them and remove everything they created
clusters-down: tool
	@if [ -f .localclusters/console.pid ]; then kill $$(cat .localclusters/console.pid) 2>/dev/null || true; rm -f .localclusters/console.pid; fi
	$(LC) down

clusters-status: tool
	@$(LC) status

## images: build the project's images and push them to both registries;
## store the ferry image on the host (dst) as the data movers' image
images: tool build
	$(LC) images
	bin/ferry config set mover-image "$$(sed -n 's/^ferry=//p' .localclusters/src/images)" \
		--kubeconfig .localclusters/dst/kubeconfig

leftovers: tool
	$(LC) leftovers

## test: unit tests, then e2e tests on the local clusters, then a check
## that clusters-down leaves nothing behind
test: unit console-unit e2e

# Unit tests, and the tests tagged envtest against a real API server
# (kube-apiserver and etcd, no nodes) from the cached binaries.
# A test that panics skips envtest's stop: envtest-reap kills the API
# servers it left, so that nothing outlives the run.
unit: envtest-assets s3-server
	status=0; KUBEBUILDER_ASSETS=$$($(LC) envtest) $(GO) test -count=1 -tags envtest ./... || status=$$?; \
		$(LC) envtest-reap; exit $$status
	cd $(LC_DIR) && $(GO) test -count=1 ./...

## s3-server: build the tests' S3 server (versitygw) once into $(FERRY_CACHE)
s3-server:
	@$(GO) run ./test/harness/s3server/install >/dev/null

# browser-deps: Chromium and the lockfile's packages (playwright-core,
# axe-core) for the browser tests.
browser-deps: $(NPM_STAMP)
	@bash hack/deps.sh browser

## envtest-assets: build the Kubernetes components once and link kube-apiserver, kubectl and etcd for envtest
# On a fresh machine the Debian packages (network and disk) install while
# the Kubernetes components (CPU) build, and the linking waits for both.
envtest-assets: tool
	@bash hack/deps.sh & deps=$$!; $(GO) mod download & mods=$$!; \
		status=0; $(LC) build || status=$$?; wait $$deps || status=$$?; wait $$mods || status=$$?; \
		[ $$status = 0 ] && $(LC) envtest

# The e2e suite includes the console's browser test (TestConsoleInBrowser),
# on the same clusters: the binary the suite builds embeds the console.
# hack/e2e.sh runs it in two shards at once, each with its own Ferry
# namespace, after the tests that must run alone.
e2e: clusters-up images s3-server console-assets browser-deps
	$(MAKE) testbed-checks
	GO=$(GO) bash hack/e2e.sh
	$(MAKE) testbed-e2e

# First: the test bed's own checks on the running clusters (volumes, DNS,
# Services, NodePorts across clusters, port-forward, storage classes):
# every test of its e2e folder but TestUpDown.
testbed-checks:
	cd $(LC_DIR) && LOCALCLUSTERS_REPO=$(CURDIR) \
		$(GO) test -count=1 -tags e2e -timeout 10m -skip '^TestUpDown$$' ./e2e/

# Last: takes the clusters down, checks nothing is left, brings them up
# again and down again.
testbed-e2e: tool
	cd $(LC_DIR) && LOCALCLUSTERS_BIN=$(CURDIR)/$(LC_BIN) LOCALCLUSTERS_REPO=$(CURDIR) \
		$(GO) test -count=1 -tags e2e -timeout 20m -v -run 'TestUpDown' ./e2e/

## demo: start the clusters and run the sample app on src
demo: clusters-up images build
	bash hack/demo.sh

## lint: go vet and staticcheck on both modules
lint:
	$(GO) vet ./...
	cd $(LC_DIR) && $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	cd $(LC_DIR) && $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## bench: benchmarks; results are recorded in docs/benchmarks.md
bench: bench-go bench-resources bench-mover bench-repository bench-downtime bench-postgres bench-images

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Resource migration: N ConfigMaps by cutover vs the raw client-go create rate.
bench-resources: clusters-up images build
	$(GO) run ./bench/resources -n 10000 -n 50000

# Downtime of a cutover after one stage, per plan type (the sample app).
bench-downtime: clusters-up images build
	$(GO) run ./bench/downtime -rounds 3

# A real PostgreSQL (pgbench -s 20, a writer) moved src to dst after one
# stage: downtime, the final sync against the bytes that changed, and the
# same final sync by ferry mover and rsync over stunnel (as root).
bench-postgres: clusters-up images build
	$(GO) run ./bench/postgres -scale 20 -rounds 5

# Image copy: internal/images vs skopeo copy --all between the test bed's
# registries (1 GiB image of 10 layers, 3-platform index; first and second copy).
bench-images: clusters-up
	$(GO) run ./bench/images -rounds 2

# Data mover: ferry mover vs rsync over stunnel vs cp -a, on tmpfs.
bench-mover: build
	bash bench/mover/run.sh

# Ferry's replication repository against restic (apt-get install restic),
# both on one versitygw over a tmpfs; as root. See docs/benchmarks.md.
bench-repository: s3-server
	$(GO) run ./bench/repository

clean: clusters-down
	rm -rf bin .localclusters
