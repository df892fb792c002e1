/**
 * One repository of one registry, as oras-go's `Repository`: a blob store, a manifest store and
 * the tag list, all sending through the same auth client (and so the same token cache).
 */
import type { AuthClient } from './auth';
import { BlobStore } from './blob-store';
import { RepoEndpoint, type Repo, type UploadOptions } from './endpoint';
import { ManifestStore } from './manifest-store';

export type { Repo, UploadOptions };

export class Repository implements Repo {
  readonly endpoint: RepoEndpoint;
  readonly blobs: BlobStore;
  readonly manifests: ManifestStore;

  constructor(client: AuthClient, registry: string, repository: string, uploadOptions: UploadOptions = {}) {
    this.endpoint = new RepoEndpoint(client, registry, repository);
    this.blobs = new BlobStore(this.endpoint, uploadOptions);
    this.manifests = new ManifestStore(this.endpoint);
  }

  get registry(): string {
    return this.endpoint.registry;
  }

  get repository(): string {
    return this.endpoint.repository;
  }

  /** Every tag, following `Link: <…>; rel="next"` pages (at most 1000), sorted and unique. */
  async tags(): Promise<string[]> {
    const tags: string[] = [];
    const { client, registry, target } = this.endpoint;
    const what = `list tags of ${target}`;
    let next: URL | undefined = this.endpoint.url('tags/list');
    for (let pages = 0; next && pages < 1000; pages++) {
      const { res, body: bytes } = await client.getWhole(registry, next, { scopes: this.endpoint.scopes() }, what);
      let body: { tags?: string[] | null };
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        this.endpoint.client.fail(`${what}: the answer is not JSON`, 200, 'NAME_INVALID');
      }
      tags.push(...(body.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      next = link ? new URL(link[1], next) : undefined;
    }
    return [...new Set(tags)].sort();
  }
}
