/** A repository's manifests: PUT with the exact content type, HEAD, GET with every digest checked, and tagging. */
import { MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, digestOf, isDigest, type Descriptor } from './media';
import type { RepoEndpoint } from './endpoint';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface FetchedManifest {
  bytes: Buffer;
  descriptor: Descriptor;
  json: Record<string, unknown>;
}

export class ManifestStore {
  constructor(private readonly repo: RepoEndpoint) {}

  private get client() {
    return this.repo.client;
  }

  /** PUT a manifest under a tag or digest with Content-Type = its media type; returns the digest. */
  async put(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest) this.client.fail(`manifest hashes to ${digest}, not ${reference}`, undefined, 'DIGEST_INVALID');
    const res = await this.client.send(this.repo.registry, 'PUT', this.repo.path(`manifests/${reference}`), {
      scopes: this.repo.scopes(true),
      headers: { 'Content-Type': mediaType },
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200) return this.client.raise(res, `PUT ${this.repo.target}:${reference} manifest`);
    await res.body?.cancel();
    const got = res.headers.get('docker-content-digest');
    if (got && got !== digest) this.client.fail(`registry reports manifest digest ${got}, expected ${digest}`, res.status, 'DIGEST_INVALID');
    return digest;
  }

  /** HEAD a manifest; undefined on 404. Falls back to GET when the registry sends no digest. */
  async head(reference: string): Promise<Descriptor | undefined> {
    const res = await this.client.send(this.repo.registry, 'HEAD', this.repo.path(`manifests/${reference}`), {
      scopes: this.repo.scopes(),
      headers: { Accept: MANIFEST_ACCEPT },
    });
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    if (res.status !== 200) return this.client.raise(res, `HEAD ${this.repo.target}:${reference} manifest`);
    const digest = res.headers.get('docker-content-digest');
    if (!digest) return (await this.get(reference)).descriptor;
    if (isDigest(reference) && digest !== reference) this.client.fail(`registry answered ${digest} for ${reference}`, 200, 'DIGEST_INVALID');
    return {
      mediaType: (res.headers.get('content-type') ?? '').split(';')[0].trim(),
      digest,
      size: Number(res.headers.get('content-length') ?? -1),
    };
  }

  /** GET a manifest with Accept; verifies digest (by-digest refs and Docker-Content-Digest) and media type. */
  async get(reference: string): Promise<FetchedManifest> {
    const fail: (message: string, status?: number, code?: string) => never = (m, s, c) => this.client.fail(m, s, c);
    const { res, body: bytes } = await this.client.getWhole(
      this.repo.registry,
      this.repo.path(`manifests/${reference}`),
      { scopes: this.repo.scopes(), headers: { Accept: MANIFEST_ACCEPT } },
      `GET ${this.repo.target}:${reference} manifest`,
      MAX_MANIFEST_BYTES,
    );
    if (bytes.length > MAX_MANIFEST_BYTES) fail(`manifest ${reference} is larger than 4 MiB`, 200, 'MANIFEST_INVALID');
    const digest = digestOf(bytes);
    if (isDigest(reference) && digest !== reference) fail(`manifest ${reference}: digest mismatch (DIGEST_INVALID): the content hashes to ${digest}; refused`, 200, 'DIGEST_INVALID');
    const header = res.headers.get('docker-content-digest');
    if (header && header !== digest) fail(`manifest ${reference}: digest mismatch (DIGEST_INVALID): the registry says ${header}, the content hashes to ${digest}; refused`, 200, 'DIGEST_INVALID');
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      fail(`manifest ${reference} is not valid JSON`, 200, 'MANIFEST_INVALID');
    }
    const ct = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    const mt = typeof json.mediaType === 'string' ? json.mediaType : ct;
    if (typeof json.mediaType === 'string' && ct && MANIFEST_MEDIA_TYPES.includes(ct) && ct !== json.mediaType) {
      fail(`manifest ${reference}: Content-Type ${ct} disagrees with mediaType ${json.mediaType}`, 200, 'MANIFEST_INVALID');
    }
    return { bytes, descriptor: { mediaType: mt, digest, size: bytes.length }, json };
  }

  /** Points more tags at the manifest `reference` names (a re-PUT of the same bytes); returns its digest. */
  async tag(reference: string, tags: string[]): Promise<string> {
    const m = await this.get(reference);
    for (const t of tags) await this.put(t, m.bytes, m.descriptor.mediaType);
    return m.descriptor.digest;
  }
}
