/** The usage of `meshwasm` and of each subcommand (`meshwasm <command> --help`). */

export const USAGE = `meshwasm: one CLI for the filter workflow (build, run, serve, push, wasmplugin, list, lab, init)

usage: meshwasm <command> [options]          (npx meshwasm … from the repository or any filter folder)

  build <filter>                     build packages/<filter>/dist/<filter>.wasm (nx run <filter>:build)
  run <filter|file.wasm> [options]   one request through the filter in the proxy-wasm host (its run)
  serve [--envoy-config F] [--config <filter>=FILE]...
                                     the host's local proxy, with a pluginConfig per filter
  push <filter> [--registry R]       publish the filter's OCI artifact (nx run <filter>:publish)
  wasmplugin <filter> [options]      print an Istio WasmPlugin/TrafficExtension for your config and workload
  list [--json] [--rebuild]          every filter, its version, its pinned digest, changed since the release?
  lab <n> [--serve]                  the course's lab n (1-6): the student-sized filter, then the production one
  init <name>                        create packages/<name>, a starter filter that passes its own targets

A <filter> is a name (header, redact, …); inside packages/<filter> it may be left out.
meshwasm <command> --help shows the options of a command.
Exit codes: 0 done (also for this usage and --help), 1 the work failed (e.g. a build, a push, nothing
released yet), 2 bad input (an unknown command or flag, a bad config): one line on stderr, nothing on stdout.`;

export const HELP: Record<string, string> = {
  build: `usage: meshwasm build [<filter>]

Builds the filter's release wasm, packages/<filter>/dist/<filter>.wasm, with Nx
(nx run <filter>:build; a second run is a cache hit).`,

  run: `usage: meshwasm run <filter|file.wasm> [host run options]

Runs one request (or, with --tcp, one connection) through the filter in the proxy-wasm host and
prints what the upstream and the client received: this is \`proxy-wasm-host run\`, with the same options.
A filter name is built first (nx, cached) and runs dist/<filter>.wasm with --config
@packages/<filter>/examples/lab.json unless you give --config (JSON text, or @file).

The host's options:`,

  serve: `usage: meshwasm serve [--envoy-config FILE] [--config <filter>=FILE]... [--echo PORT] [--metadata PORT] [--no-build]

Serves an Envoy bootstrap with the proxy-wasm host's local proxy (\`proxy-wasm-host serve\`) until
Ctrl-C or SIGTERM, which stop it and every server it started.

  --envoy-config FILE      default deploy/envoy/envoy.yaml (every filter in one chain; its relative
                           paths are the repository's, and it gets the host's echo upstream on :8080
                           and metadata service on :8081 unless --echo/--metadata say otherwise)
  --config <filter>=FILE   the pluginConfig (JSON) of the wasm filter <filter> (its name, root_id or
                           <filter>.wasm file), checked against packages/<filter>/schema.json; the
                           host serves a copy of the Envoy config with that configuration replaced
  --echo PORT, --metadata PORT   start the host's echo upstream / metadata service on 127.0.0.1:PORT
  --no-build               do not build the workspace filters the config loads (nx, cached) first`,

  push: `usage: meshwasm push [<filter>] [--registry host[:port]/path]

Packages the filter (nx run <filter>:package: the reproducible 2-layer OCI artifact) and pushes it
to <registry>/<filter>:<version> (nx run <filter>:publish). The registry is --registry, else
$WASM_REGISTRY. Pushing a version again with the same digest pushes nothing; a different digest is
refused (released versions are immutable).`,

  wasmplugin: `usage: meshwasm wasmplugin [<filter>] [--config FILE] [--selector k=v]... [--target-ref Kind/name]...
        [--namespace NS] [--name N] [--fail-strategy FAIL_OPEN|FAIL_CLOSE|FAIL_RELOAD]
        [--phase UNSPECIFIED|AUTHN|AUTHZ|STATS] [--priority N] [--registry R]
        [--kind WasmPlugin|TrafficExtension] [--unpinned]

Prints an Istio manifest for the released filter on stdout. Every field comes from the filter's
wasmplugin.yaml (the manifest the release pins) unless a flag replaces it:

  --config FILE          pluginConfig (JSON, or YAML for .yaml/.yml); default: the wasmplugin.yaml's
  --selector k=v         spec.selector.matchLabels (repeat for more labels); replaces the selector
  --target-ref Kind/name spec.targetRefs (Gateway, GatewayClass, Service, ServiceEntry) instead of a selector
  --namespace, --name    metadata.namespace (default: none, kubectl -n decides) and metadata.name
  --fail-strategy, --phase, --priority   the Istio fields of the same name
  --registry R           url = oci://R/<filter>:<version>, same sha256 (where you pushed the same artifact)
  --kind K               WasmPlugin (default: the manifest's kind) or TrafficExtension (Istio 1.30+)
  --unpinned             when the filter is not released yet: print the tag url without sha256
                         (labelled UNPINNED) instead of failing

url and sha256 are the release's pins. The output is checked against the Istio schema, its CEL rules
and the filter's schema.json before it is printed; any problem is one line on stderr, exit 2.`,

  list: `usage: meshwasm list [--json] [--rebuild]

For every filter: its version, the sha256 its wasmplugin.yaml pins (the release), and whether the
working tree differs from that release: the release commit is the commit that wrote the pin, and
the filter's wasm sources (assembly/, asconfig.json, asconfig.base.json and the SDK's sources,
the same set tools/release uses) are compared with it, uncommitted and untracked files included.

  --rebuild   also build every filter (nx, cached), package it in a temporary directory and show
              the digest of that artifact: "same" when it equals the pin (slower, definitive)
  --json      one JSON array instead of the table`,

  lab: `usage: meshwasm lab <n> [--serve] [--no-build]          (also: npm run lab -- <n>)

Runs the course's lab n on this machine, with no Docker, Envoy or registry:
  1 hello filter (header)        2 transformations (redact, blocklist)   3 callouts (callout)
  4 observability and safety (callout: logs, metrics, a trap, fail closed then fail open)
  5 deploy to Istio (header: the OCI artifact Istio accepts, and what it refuses, offline)
  6 HTTP timing (http-timing: the course's metric names)
It builds the lab's filters (nx run-many -t build build-lab; cached), runs the student-sized
version (packages/<filter>/assembly/lab.ts) and then the production filter through the lab's
exchanges (examples/lab.exchanges.json with examples/lab.json), and prints the curl commands to try.
It exits 1 when anything differs from the documented outcome.

  --serve      then keep the local proxy up (proxy-wasm-host serve) on 127.0.0.1:10000, with the
               echo upstream on :8080 (and the metadata service on :8081), until Ctrl-C
  --no-build   use the .wasm files already in dist/`,

  init: `usage: meshwasm init <name>

Creates packages/<name>: a small working filter (it adds a response header from its configuration)
with assembly/index.ts, the student-sized assembly/lab.ts, schema.json, examples/lab.json and
lab.exchanges.json, envoy.yaml, wasmplugin.yaml (not released yet: no sha256), a README, a
CHANGELOG and a test, plus .changeset/<name>-first-release.md. Its build, test, validate, typecheck
and lint targets pass straight away. This is \`npx nx g @meshwasm/nx-plugin:filter <name>\`.

<name> is the npm package, the folder, the OCI repository and Envoy's root_id: lowercase letters,
digits and single hyphens, starting with a letter. A bad, reserved or existing name is one line on
stderr, exit 2, and nothing is written. Then run npm install at the repository root (the lockfile
must record the new workspace package, or npm ci refuses it) and commit package-lock.json with it.`,
};
