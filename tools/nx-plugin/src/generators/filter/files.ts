/**
 * The files of a new filter package, `packages/<name>`: a small working filter (it adds one
 * response header from its configuration) with everything the workspace's targets need, so
 * `build`, `test`, `validate`, `typecheck` and `lint` pass straight away. Plain functions of the
 * name, so the Nx generator and `meshwasm init` write the very same files.
 */
import { className } from './name';

/** The version a new filter starts at: its first changeset (minor) releases 0.1.0. */
export const INITIAL_VERSION = '0.0.0';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The header the starter filter adds, and its value, in every example. */
export function starterConfig(name: string): { name: string; value: string } {
  return { name: `x-${name}`, value: 'hello' };
}

function indexTs(name: string): string {
  const P = className(name);
  return `// ${name}: adds one header to every response, named and valued by its configuration.
// A starter filter: make it yours. Start from assembly/lab.ts (the same filter in its fewest plain
// lines) to see the shape; this file is the production form, which checks its configuration.
//
// Config (schema.json): {"name": "x-${name}", "value": "hello"}
// Both fields are required. The name must be an HTTP header name (it is stored lower-case, as
// Envoy stores names), the value may not hold CR, LF or NUL. A bad configuration is refused at
// configure time with one log line naming the field; the filter never traps.
//
// Only the callbacks this filter overrides are exported (Envoy: a missing callback = Continue).
// When you override another hook (onRequestHeaders, onResponseBody, …), add its proxy_on_*
// callback to the second line, or it is never called.
export * from "as-proxy-wasm/assembly/core";
export { proxy_on_response_headers } from "as-proxy-wasm/assembly/exports";
import { Bytes, FilterHeadersStatus, HttpContext, HttpStream, RootContext, isHeaderValue, isToken, registerRootContext } from "as-proxy-wasm";

const MAX_NAME = 256;
const MAX_VALUE = 8192;

class ${P}Root extends RootContext {
  name: Bytes = Bytes.of("");
  value: Bytes = Bytes.of("");

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false; // not a JSON object: the SDK logged why

    // member(): the required member, never null. A missing key or another type than a string is
    // recorded as the error; the first error wins, so the checks below add nothing after it.
    let nameAt = cfg.member("name");
    let name = nameAt.asString();
    if (!isToken(name, MAX_NAME)) { // a token: a header name, never a :pseudo-header
      nameAt.fail("must be a header name (letters, digits and !#$%&'*+-.^_\`|~, 1..256 characters)");
    }
    let valueAt = cfg.member("value");
    let value = valueAt.asString();
    if (value.length > MAX_VALUE || !isHeaderValue(value)) {
      valueAt.fail("must be a header value (at most 8192 characters, no CR, LF or NUL)");
    }
    // Logs the first error (or an unknown key) as \`config.<field>: …\` and refuses the config.
    if (!this.configOk(cfg)) return false;

    // Encoded once here, so a response costs no allocation.
    this.name = Bytes.lower(name);
    this.value = Bytes.of(value);
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new ${P}Filter(contextId, this);
  }
}

// HttpStream<${P}Root>: this.root is the root that created this stream, typed, with no cast.
class ${P}Filter extends HttpStream<${P}Root> {
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let root = this.root;
    // Replaces every value the upstream sent (add() would keep them and append one).
    this.responseHeaders.set(root.name, root.value);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new ${P}Root(id));
`;
}

function labTs(name: string): string {
  return `// ${name}, student-sized: the filter of assembly/index.ts in its fewest plain lines. It gives the
// same outcome on the lab's exchanges (examples/lab.exchanges.json).
//
// Differs from the production filter (assembly/index.ts), on purpose, to stay short:
// - no checks on the name and value (index.ts refuses a bad header name or value with a clear message);
// - every proxy_on_* callback is exported (index.ts exports only the ones it uses, to stay small).
//
// Build it like index.ts: npx asc assembly/lab.ts --config asconfig.json --target release --outFile dist/${name}.lab.wasm
export * from "as-proxy-wasm/assembly/exports"; // every proxy_on_* callback: every hook can run
import { FilterHeadersStatus, HttpContext, HttpStream, RootContext, registerRootContext } from "as-proxy-wasm";

class LabRoot extends RootContext {
  name: string = "";
  value: string = "";

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false; // not a JSON object: the SDK logged why
    this.name = cfg.str("name");
    this.value = cfg.str("value");
    return this.configOk(cfg); // a missing field or an unknown key: logged, and refused
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new LabFilter(contextId, this);
  }
}

class LabFilter extends HttpStream<LabRoot> { // this.root: the LabRoot, typed
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let root = this.root;
    this.responseHeaders.set(root.name, root.value);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new LabRoot(id));
`;
}

function schemaJson(name: string): string {
  return json({
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://meshwasm.dev/schemas/${name}.json`,
    title: `${name} filter pluginConfig`,
    description: 'The header added to every response: `name` replaces every value the upstream sent.',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'value'],
    properties: {
      name: {
        type: 'string',
        minLength: 1,
        maxLength: 256,
        pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
        description: 'An HTTP header name (RFC 9110 token); stored lower-case, as Envoy does.',
      },
      value: {
        type: 'string',
        maxLength: 8192,
        pattern: '^[^\\r\\n\\u0000]*$',
        description: 'The header value; CR, LF and NUL are refused (header injection).',
      },
    },
  });
}

function exchangesJson(name: string): string {
  const h = starterConfig(name);
  return json({
    lab: `${name}: add a header to every response`,
    exchanges: [
      {
        title: `GET /: the client sees ${h.name}: ${h.value}`,
        request: { method: 'GET', path: '/', authority: '127.0.0.1:10000', headers: [['user-agent', 'curl/8.5.0']] },
        response: { status: 200, headers: [['content-type', 'text/plain']], body: 'ok' },
        expect: { client: { status: 200, headers: { [h.name]: h.value, 'content-type': 'text/plain' }, body: 'ok' } },
      },
      {
        title: `A ${h.name} from the upstream is replaced, not duplicated`,
        request: { method: 'GET', path: '/', authority: '127.0.0.1:10000' },
        response: { status: 200, headers: [[h.name, 'from-upstream']], body: '' },
        expect: { client: { status: 200, headers: { [h.name]: h.value }, headerCount: { [h.name]: 1 } } },
      },
    ],
  });
}

function envoyYaml(name: string): string {
  const h = starterConfig(name);
  return `# The ${name} filter in front of a loopback upstream.
#
# Run from packages/${name} (paths are relative to the working directory, as in Envoy):
#   npx proxy-wasm-host serve --envoy-config envoy.yaml     # our local proxy, no Docker
#   envoy -c envoy.yaml                                     # a real Envoy (1.28+)
# with an upstream on 127.0.0.1:8080 (\`npx proxy-wasm-host echo --port 8080\`), then:
#   curl -si http://127.0.0.1:10000/
# The response carries \`${h.name}: ${h.value}\`.
static_resources:
  listeners:
    - name: ingress
      address:
        socket_address: { address: 127.0.0.1, port_value: 10000 }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress_http
                codec_type: AUTO
                route_config:
                  name: local_route
                  virtual_hosts:
                    - name: local_service
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: upstream }
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: ${name}
                        root_id: ${name}
                        # A cosmetic header: a broken VM should not take traffic down.
                        fail_open: true
                        configuration:
                          "@type": type.googleapis.com/google.protobuf.StringValue
                          value: |
                            { "name": "${h.name}", "value": "${h.value}" }
                        vm_config:
                          vm_id: ${name}
                          runtime: envoy.wasm.runtime.v8
                          code:
                            local:
                              filename: dist/${name}.wasm
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: upstream
      connect_timeout: 1s
      type: STATIC
      load_assignment:
        cluster_name: upstream
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: 127.0.0.1, port_value: 8080 }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 9901 }
`;
}

function wasmpluginYaml(name: string): string {
  const h = starterConfig(name);
  return `# Istio WasmPlugin for the ${name} filter.
# Apply in the namespace of the workload: kubectl apply -n <ns> -f wasmplugin.yaml
# Not released yet: \`url\` names the version in package.json and there is no \`sha256\`. The
# release flow (npm run release:version) rewrites \`url\` to the released version and pins
# \`sha256\` to the artifact's manifest digest.
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: ${name}
  labels:
    app.kubernetes.io/name: ${name}
    app.kubernetes.io/part-of: meshwasm
spec:
  selector:
    matchLabels:
      app: httpbin
  url: oci://ghcr.io/meshwasm/${name}:${INITIAL_VERSION}
  imagePullPolicy: IfNotPresent
  pluginName: ${name}
  phase: UNSPECIFIED_PHASE
  # A cosmetic header fails open: a broken VM must not take traffic down.
  failStrategy: FAIL_OPEN
  pluginConfig:
    name: ${h.name}
    value: ${h.value}
`;
}

function packageJson(name: string): string {
  return json({
    name,
    version: INITIAL_VERSION,
    private: true,
    description: `Envoy/Istio proxy-wasm filter: adds a response header from its configuration (made by meshwasm init)`,
    license: 'Apache-2.0',
    files: [`dist/${name}.wasm`, 'schema.json', 'envoy.yaml', 'wasmplugin.yaml', 'examples'],
    dependencies: { 'as-proxy-wasm': '^0.2.0' },
    devDependencies: { '@meshwasm/proxy-wasm-host': '*', '@meshwasm/labs': '*' },
  });
}

function testTs(name: string): string {
  const h = starterConfig(name);
  return `import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';
import { describeFilterPackage, expectConfigRejected } from '@meshwasm/labs/jest';

const pkgDir = join(__dirname, '..');
let wasm: Uint8Array;

beforeAll(() => {
  wasm = new Uint8Array(readFileSync(join(pkgDir, 'dist', '${name}.wasm')));
});

async function start(config: unknown): Promise<Plugin> {
  return loadPlugin(wasm, { config: config as object, pluginName: '${name}', rootId: '${name}' });
}

// The lab's exchanges give their documented outcome, lab.json fits schema.json, and the size budget.
describeFilterPackage(pkgDir, { wasm: '${name}.wasm' });

describe('${name}', () => {
  test('adds the configured header to the response, lower-cased, and leaves the request alone', async () => {
    const plugin = await start({ name: 'X-Hello', value: 'world' });
    expect(plugin.configured).toBe(true);
    const s = plugin.newStream();
    expect(s.sendRequestHeaders([[':authority', 'example.com'], [':path', '/'], [':method', 'GET'], [':scheme', 'http']], true)).toBe('Continue');
    expect(s.requestHeaders.map(([k]) => k)).not.toContain('x-hello');
    expect(s.sendResponseHeaders([[':status', '200']], true)).toBe('Continue');
    expect(s.responseHeaders).toContainEqual(['x-hello', 'world']);
    s.complete();
    expect(plugin.failed).toBe(false);
  });

  test('a bad header name is refused with one line naming the field', async () => {
    expectConfigRejected(await start({ name: 'bad name', value: '${h.value}' }), /^config\\.name: must be a header name/);
  });

  test('a value with CR or LF is refused', async () => {
    expectConfigRejected(await start({ name: '${h.name}', value: 'a\\r\\nset-cookie: x' }), /^config\\.value: must be a header value/);
  });

  test('a missing field or an unknown key is refused', async () => {
    expectConfigRejected(await start({ name: '${h.name}' }), /^config.*value/);
    expectConfigRejected(await start({ name: '${h.name}', value: '${h.value}', extra: 1 }), /extra/);
  });
});
`;
}

function readme(name: string): string {
  const h = starterConfig(name);
  return `# ${name} — a new proxy-wasm filter

A proxy-wasm HTTP filter for Envoy and Istio, written in AssemblyScript on
[\`as-proxy-wasm\`](../as-proxy-wasm). It was made by \`meshwasm init ${name}\` (or
\`npx nx g @meshwasm/nx-plugin:filter ${name}\`) and starts as a working example: it adds one header to
every response, named and valued by its configuration. Change it into your filter; keep this
README true as you go.

| file | what it is |
|---|---|
| [\`assembly/index.ts\`](assembly/index.ts) | the filter (checks its configuration, never traps) |
| [\`assembly/lab.ts\`](assembly/lab.ts) | the same filter, student-sized: the shape in its fewest plain lines |
| [\`schema.json\`](schema.json) | the JSON schema of its \`pluginConfig\` |
| [\`examples/lab.json\`](examples/lab.json) | an example configuration |
| [\`examples/lab.exchanges.json\`](examples/lab.exchanges.json) | requests through the filter and what they must give |
| [\`envoy.yaml\`](envoy.yaml) | a runnable Envoy bootstrap (loopback upstream) |
| [\`wasmplugin.yaml\`](wasmplugin.yaml) | the Istio \`WasmPlugin\` (not released yet: no \`sha256\`) |
| [\`test/${name}.test.ts\`](test/${name}.test.ts) | behaviour tests through the proxy-wasm host |

## Configuration

The \`pluginConfig\` (schema: [\`schema.json\`](schema.json)), as in
[\`examples/lab.json\`](examples/lab.json):

\`\`\`json
{ "name": "${h.name}", "value": "${h.value}" }
\`\`\`

| field | meaning |
|---|---|
| \`name\` | the header added to every response; an HTTP header name, stored lower-case |
| \`value\` | its value; CR, LF and NUL are refused |

Both are required. The header replaces any value the upstream sent. A bad configuration makes
\`on_configure\` return false with one log line naming the field, and Envoy rejects it.

## Build and test

From the repository root:

\`\`\`sh
npx nx run ${name}:build      # dist/${name}.wasm (release, optimised for size; cached)
npx nx run ${name}:test       # behaviour tests through tools/proxy-wasm-host
npx nx run ${name}:validate   # envoy.yaml, wasmplugin.yaml and lab.json against their schemas
\`\`\`

## Run it locally (no Envoy)

Once built, the lab's exchanges run through the Node host (from \`packages/${name}\`):

<!-- transcript: npx meshwasm-labs ${name} -->
\`\`\`
${name} — ${name}: add a header to every response  (dist/${name}.wasm, … bytes, config examples/lab.json)
  • GET /: the client sees ${h.name}: ${h.value}
      → upstream received … headers
      ← client received 200, body "ok"
      ✓ as the lab expects
  • A ${h.name} from the upstream is replaced, not duplicated
      → upstream received … headers
      ← client received 200
      ✓ as the lab expects
\`\`\`

One request, showing what the upstream and the client received:

\`\`\`sh
npx proxy-wasm-host run dist/${name}.wasm --config @examples/lab.json
\`\`\`

## Run it in Envoy or Istio

[\`envoy.yaml\`](envoy.yaml) listens on \`127.0.0.1:10000\` in front of an upstream on
\`127.0.0.1:8080\`. From \`packages/${name}\`:

\`\`\`sh
npx proxy-wasm-host echo --port 8080 &
npx proxy-wasm-host serve --envoy-config envoy.yaml     # or a real Envoy: envoy -c envoy.yaml
curl -si http://127.0.0.1:10000/
\`\`\`

Expected: \`HTTP/1.1 200 OK\` with \`${h.name}: ${h.value}\` among the response headers.

[\`wasmplugin.yaml\`](wasmplugin.yaml) is for Istio once the filter is released: the release flow
(\`npm run release:version\`, from the changeset \`meshwasm init\` wrote) sets its \`url\` to the
released version and pins its \`sha256\`. Before that, \`npx meshwasm wasmplugin ${name} --unpinned\`
prints it with a tag url.
`;
}

/** The changeset that releases the new filter for the first time (the changeset check asks for one). */
export function changeset(name: string): string {
  return `---
"${name}": minor
---

First release of the ${name} filter: it adds a response header named and valued by its \`pluginConfig\` (\`name\`, \`value\`; JSON schema in \`schema.json\`). A bad name or value is refused at configure time with one log line naming the field.
`;
}

/** Every file of `packages/<name>`, by path relative to that folder. */
export function filterFiles(name: string): Record<string, string> {
  return {
    'package.json': packageJson(name),
    'asconfig.json': json({ extends: '../../asconfig.base.json', entries: ['assembly/index.ts'] }),
    'tsconfig.json': json({ extends: '../../tsconfig.base.json', compilerOptions: { types: ['node'] }, include: ['test/**/*.ts'] }),
    'assembly/index.ts': indexTs(name),
    'assembly/lab.ts': labTs(name),
    'schema.json': schemaJson(name),
    'examples/lab.json': json(starterConfig(name)),
    'examples/lab.exchanges.json': exchangesJson(name),
    'envoy.yaml': envoyYaml(name),
    'wasmplugin.yaml': wasmpluginYaml(name),
    [`test/${name}.test.ts`]: testTs(name),
    'README.md': readme(name),
    'CHANGELOG.md': `# ${name}\n`,
  };
}
