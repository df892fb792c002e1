/**
 * deploy/kind/: the local-registry pattern (kind-config.yaml, hosts.toml, the
 * local-registry-hosting ConfigMap, registry.sh) is checked offline; each broken copy fails with
 * the message that says what containerd or the tools would do.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateDeployDir } from '../src/filter';
import { formatIssue } from '../src/issues';
import { parseTomlSubset } from '../src/kind';

const REPO = join(__dirname, '..', '..', '..');
const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A copy of deploy/kind alone (in a deploy tree), with `edits` applied: [file, from, to]. */
function kindCopy(edits: [string, string | RegExp, string][] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'meshwasm-kind-'));
  made.push(root);
  cpSync(join(REPO, 'deploy', 'kind'), join(root, 'kind'), { recursive: true });
  for (const [file, from, to] of edits) {
    const p = join(root, 'kind', file);
    const before = readFileSync(p, 'utf8');
    const after = before.replace(from, to);
    if (after === before) throw new Error(`edit did not apply: ${String(from)} in ${file}`);
    writeFileSync(p, after);
  }
  return root;
}

function problems(root: string): string[] {
  const r = validateDeployDir(root, { display: (p) => p.slice(root.length + 1) });
  return r.issues.filter((i) => i.severity === 'error').map(formatIssue);
}

describe('deploy/kind local registry', () => {
  test('the repository files pass, and every file is reported', () => {
    const root = kindCopy();
    const r = validateDeployDir(root, { display: (p) => p.slice(root.length + 1) });
    expect(r.issues).toEqual([]);
    expect(r.files.map((f) => f.file)).toEqual(['kind/kind-config.yaml', 'kind/hosts.toml', 'kind/local-registry-hosting.yaml', 'kind/registry.sh']);
  });

  test('no config_path: containerd never reads hosts.toml', () => {
    const root = kindCopy([['kind-config.yaml', /containerdConfigPatches:[\s\S]*$/, '']]);
    expect(problems(root)).toEqual([
      'error kind/kind-config.yaml containerdConfigPatches: no registry config_path: containerd would never read kind/hosts.toml (set plugins."io.containerd.grpc.v1.cri".registry.config_path)',
    ]);
  });

  test('the old inline mirrors table next to config_path', () => {
    const root = kindCopy([['kind-config.yaml', 'config_path = "/etc/containerd/certs.d"', 'config_path = "/etc/containerd/certs.d"\n    [plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5001"]\n      endpoint = ["http://kind-registry:5000"]']]);
    expect(problems(root)).toEqual([
      expect.stringMatching(/^error kind\/kind-config\.yaml:\d+:\d+ containerdConfigPatches\[0\]: plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.mirrors: the inline mirrors tables are deprecated and containerd 2\.x refuses them next to config_path; put a hosts\.toml in config_path instead$/),
    ]);
  });

  test('config_path elsewhere than where registry.sh writes', () => {
    const root = kindCopy([['kind-config.yaml', '"/etc/containerd/certs.d"', '"/etc/containerd/hosts.d"']]);
    expect(problems(root)).toEqual(['error kind/kind-config.yaml containerdConfigPatches: config_path is /etc/containerd/hosts.d, but kind/registry.sh writes hosts.toml under /etc/containerd/certs.d']);
  });

  test('hosts.toml naming another port, and no host on the kind network', () => {
    const root = kindCopy([['hosts.toml', 'http://localhost:5001', 'http://localhost:5000'], ['hosts.toml', 'http://kind-registry:5000', 'http://registry:5000']]);
    expect(problems(root)).toEqual([
      'error kind/hosts.toml server: must be http://localhost:5001: images are named by the registry\'s address on the host (REGISTRY_PORT=5001)',
      'error kind/hosts.toml host: needs [host."http://kind-registry:5000"]: the registry container on the kind network (REGISTRY_NAME=kind-registry, port 5000 inside it)',
    ]);
  });

  test('hosts.toml: an unknown capability, and a line that is not TOML', () => {
    const root = kindCopy([['hosts.toml', '["pull", "resolve"]', '["pull", "resolve", "delete"]'], ['hosts.toml', /$/, '\nthis is not toml\n']]);
    expect(problems(root)).toEqual([
      'error kind/hosts.toml:10:1 cannot read "this is not toml" (key = "string" | true | false | integer | ["strings"])',
      'error kind/hosts.toml host["http://kind-registry:5000"].capabilities: unknown capability "delete" (pull, resolve, push)',
    ]);
  });

  test('the ConfigMap in the wrong namespace, pointing elsewhere', () => {
    const root = kindCopy([['local-registry-hosting.yaml', 'namespace: kube-public', 'namespace: default'], ['local-registry-hosting.yaml', 'hostFromClusterNetwork: "kind-registry:5000"', 'hostFromClusterNetwork: "registry:5000"']]);
    expect(problems(root)).toEqual([
      expect.stringMatching(/^error kind\/local-registry-hosting\.yaml:\d+:\d+ metadata\.namespace: must be kube-public \(readable by every user\)$/),
      'error kind/local-registry-hosting.yaml data["localRegistryHosting.v1"].hostFromClusterNetwork: must be kind-registry:5000 (REGISTRY_NAME=kind-registry in kind/registry.sh)',
    ]);
  });
});

describe('the TOML subset', () => {
  test('quoted dotted tables, strings, booleans, arrays', () => {
    const t = parseTomlSubset('server = "http://a:1"\n[host."http://b:2"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true # comment\n');
    expect(t).toEqual({ value: { server: 'http://a:1', host: { 'http://b:2': { capabilities: ['pull', 'resolve'], skip_verify: true } } }, errors: [] });
  });

  test('a key set twice and an array of tables are errors', () => {
    expect(parseTomlSubset('a = 1\na = 2\n[[x]]\n').errors).toEqual([
      { line: 2, message: 'a is set twice' },
      { line: 3, message: 'unsupported or malformed table header [[x]]' },
    ]);
  });
});
