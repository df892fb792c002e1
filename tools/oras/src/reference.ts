/** OCI/Docker image references: `[host[:port]/]repo[:tag[,tag…]][@sha256:…]`. */
export interface Reference {
  /** Registry host as written (with port), `docker.io` when omitted. */
  registry: string;
  repository: string;
  /** Tags in order; empty when the reference is by digest only. */
  tags: string[];
  digest?: string;
}

const REPO_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isValidTag(t: string): boolean {
  return TAG_RE.test(t);
}

export function parseReference(input: string, opts: { allowNoTag?: boolean } = {}): Reference {
  let s = input.trim();
  if (s.startsWith('oci://')) s = s.slice('oci://'.length);
  if (!s) throw new Error('invalid reference: empty');
  let digest: string | undefined;
  const at = s.indexOf('@');
  if (at >= 0) {
    digest = s.slice(at + 1);
    s = s.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new Error(`invalid reference ${JSON.stringify(input)}: bad digest ${JSON.stringify(digest)}`);
  }
  const slash = s.indexOf('/');
  let registry = 'docker.io';
  let rest = s;
  if (slash > 0) {
    const first = s.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      registry = first;
      rest = s.slice(slash + 1);
    }
  }
  let tags: string[] = [];
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tags = rest.slice(colon + 1).split(',').map((t) => t.trim()).filter(Boolean);
    rest = rest.slice(0, colon);
    if (tags.length === 0) throw new Error(`invalid reference ${JSON.stringify(input)}: empty tag`);
    for (const t of tags) {
      if (!TAG_RE.test(t)) throw new Error(`invalid reference ${JSON.stringify(input)}: bad tag ${JSON.stringify(t)}`);
    }
  }
  if (registry === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (!REPO_RE.test(rest)) throw new Error(`invalid reference ${JSON.stringify(input)}: bad repository name ${JSON.stringify(rest)}`);
  if (tags.length === 0 && !digest && !opts.allowNoTag) tags = ['latest'];
  return { registry, repository: rest, tags, digest };
}

/** The tag or digest a single request should use (digest wins). */
export function referenceTarget(ref: Reference): string {
  if (ref.digest) return ref.digest;
  if (ref.tags.length === 0) throw new Error(`reference ${formatReference(ref)} has neither tag nor digest`);
  return ref.tags[0];
}

export function formatReference(ref: Reference, tag?: string): string {
  const base = `${ref.registry}/${ref.repository}`;
  if (tag) return `${base}:${tag}`;
  if (ref.digest) return `${base}@${ref.digest}`;
  return ref.tags.length ? `${base}:${ref.tags.join(',')}` : base;
}

/** Host used on the wire (Docker Hub's API host differs from its name). */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

/** Hostname without port and brackets. */
export function hostnameOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const c = registry.lastIndexOf(':');
  return c >= 0 ? registry.slice(0, c) : registry;
}

/** Plain HTTP is used automatically only for loopback registries. */
export function isLoopbackRegistry(registry: string): boolean {
  const h = hostnameOf(registry).toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}
