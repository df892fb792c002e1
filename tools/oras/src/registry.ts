/**
 * The OCI distribution client, in layers as oras-go has them:
 *
 * - src/transport.ts: one HTTP exchange with timeouts, redirects and bounded retries;
 * - src/auth.ts: `AuthClient` wraps the transport with the auth flow (401 → challenge → token →
 *   again), one token cache per registry, realm checks and secret scrubbing;
 * - src/repository.ts: a `Repository` per repository, with its blob store (src/blob-store.ts,
 *   uploads in src/blob-upload.ts), manifest store (src/manifest-store.ts) and tags.
 *
 * `RegistryClient` builds the layers from one set of options and hands out repositories; its
 * blob/manifest methods taking a `Repo` are shorthands for `client.repository(repo).blobs…`.
 */
import { AuthClient, type AuthRequest, type CredentialStore } from './auth';
import type { BlobPushResult } from './blob-store';
import type { FetchedManifest } from './manifest-store';
import type { Descriptor } from './media';
import type { Repo, UploadOptions } from './endpoint';
import { Repository } from './repository';
import { RegistryError, Transport, type TransportOptions } from './transport';

export { RepoEndpoint } from './endpoint';
export { RegistryError, Repository, type Repo, type BlobPushResult, type FetchedManifest, type UploadOptions };
export { scopeFor, mergeScopes, AuthClient, TokenCache, type AuthRequest } from './auth';
export { parseErrorBody } from './errors';
export { BlobStore } from './blob-store';
export { ManifestStore } from './manifest-store';

/** Transport options (retries, retryBaseMs, maxRetryDelayMs, timeoutMs, userAgent), upload options and the client's own. */
export interface RegistryClientOptions extends TransportOptions, UploadOptions {
  /** Use http:// for every registry (default: only for localhost/127.0.0.1/::1). */
  plainHttp?: boolean;
  credentials?: CredentialStore;
  /** Receives progress/diagnostic lines (never secrets). */
  log?: (line: string) => void;
}

export class RegistryClient {
  readonly options: RegistryClientOptions;
  readonly auth: AuthClient;
  private readonly repositories = new Map<string, Repository>();

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    const transport = new Transport(
      options,
      (l) => this.auth.log(l),
      (t) => this.auth.scrub(t),
    );
    this.auth = new AuthClient(transport, { credentials: options.credentials, plainHttp: options.plainHttp, log: options.log });
  }

  /** The repository object for `registry/repository` (one per name, sharing this client's tokens). */
  repository(repo: Repo): Repository {
    const key = `${repo.registry}/${repo.repository}`;
    let r = this.repositories.get(key);
    if (!r) {
      r = new Repository(this.auth, repo.registry, repo.repository, this.options);
      this.repositories.set(key, r);
    }
    return r;
  }

  /** Base URL of a registry: http only for loopback hosts or when plainHttp is set. */
  baseUrl(registry: string): URL {
    return this.auth.baseUrl(registry);
  }

  /** Removes any known secret from a message. */
  scrub(msg: string): string {
    return this.auth.scrub(msg);
  }

  /** One request through the auth and transport layers; the caller consumes the body. */
  request(registry: string, method: string, pathOrUrl: string | URL, opts: AuthRequest = {}): Promise<Response> {
    return this.auth.send(registry, method, pathOrUrl, opts);
  }

  /** GET /v2/ (checks the API and primes auth). */
  async ping(registry: string): Promise<void> {
    const res = await this.request(registry, 'GET', '/v2/', { scopes: [] });
    if (res.status === 200) {
      await res.body?.cancel();
      return;
    }
    await this.auth.raise(res, `GET ${registry}/v2/`);
  }

  /** Checks credentials the way `docker login` does: /v2/ must answer 200 after auth. */
  async login(registry: string): Promise<void> {
    const res = await this.request(registry, 'GET', '/v2/', { scopes: [] });
    if (res.status === 200) {
      await res.body?.cancel();
      return;
    }
    await this.auth.raise(res, `login to ${registry}`);
  }

  blobExists(repo: Repo, digest: string, push = false): Promise<boolean> {
    return this.repository(repo).blobs.exists(digest, push);
  }

  mountBlob(repo: Repo, digest: string, from: string): Promise<{ mounted: boolean; session?: URL }> {
    return this.repository(repo).blobs.mount(digest, from);
  }

  uploadBlob(repo: Repo, data: Buffer, digest: string, opts: { chunkSize?: number; session?: URL } = {}): Promise<void> {
    return this.repository(repo).blobs.upload(data, digest, opts);
  }

  pushBlob(repo: Repo, data: Buffer, opts: { digest?: string; mountFrom?: string[]; chunkSize?: number } = {}): Promise<BlobPushResult> {
    return this.repository(repo).blobs.push(data, opts);
  }

  fetchBlob(repo: Repo, desc: Pick<Descriptor, 'digest' | 'size'>): Promise<Buffer> {
    return this.repository(repo).blobs.fetch(desc);
  }

  putManifest(repo: Repo, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    return this.repository(repo).manifests.put(reference, bytes, mediaType);
  }

  headManifest(repo: Repo, reference: string): Promise<Descriptor | undefined> {
    return this.repository(repo).manifests.head(reference);
  }

  getManifest(repo: Repo, reference: string): Promise<FetchedManifest> {
    return this.repository(repo).manifests.get(reference);
  }

  listTags(repo: Repo): Promise<string[]> {
    return this.repository(repo).tags();
  }
}
