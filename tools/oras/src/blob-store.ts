/** A repository's blobs: HEAD, cross-repository mount, HEAD-first push, and GET with size and digest checks. */
import { uploadBlob } from './blob-upload';
import { assertDigest, digestOf, type Descriptor } from './media';
import { scopeFor } from './auth';
import type { RepoEndpoint, UploadOptions } from './endpoint';

export type BlobPushResult = 'exists' | 'mounted' | 'uploaded';

export class BlobStore {
  constructor(
    private readonly repo: RepoEndpoint,
    private readonly uploadOptions: UploadOptions = {},
  ) {}

  private get client() {
    return this.repo.client;
  }

  /** HEAD a blob: true on 200, false on 404 (with push scope when the caller is about to push). */
  async exists(digest: string, push = false): Promise<boolean> {
    assertDigest(digest);
    const res = await this.client.send(this.repo.registry, 'HEAD', this.repo.path(`blobs/${digest}`), { scopes: this.repo.scopes(push) });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.client.raise(res, `HEAD ${this.repo.target} blob ${digest}`);
  }

  /** Tries a cross-repository mount; returns the upload session URL when it was not mounted. */
  async mount(digest: string, from: string): Promise<{ mounted: boolean; session?: URL }> {
    const u = this.repo.url('blobs/uploads/');
    u.searchParams.set('mount', digest);
    u.searchParams.set('from', from);
    const res = await this.client.send(this.repo.registry, 'POST', u, {
      scopes: [...this.repo.scopes(true), scopeFor(from, 'pull')],
      idempotent: false,
    });
    await res.body?.cancel();
    if (res.status === 201) return { mounted: true };
    if (res.status === 202 && res.headers.get('location')) {
      return { mounted: false, session: new URL(res.headers.get('location')!, u) };
    }
    return this.client.raise(res, `mount ${digest} from ${from} into ${this.repo.repository}`);
  }

  /**
   * Uploads a blob under `digest` without checking it locally first (the registry verifies it and
   * refuses a wrong digest with DIGEST_INVALID); see src/blob-upload.ts for chunks and faults.
   */
  upload(data: Buffer, digest: string, opts: { chunkSize?: number; session?: URL } = {}): Promise<void> {
    return uploadBlob(this.repo, this.uploadOptions, (d) => this.exists(d, true), data, digest, opts);
  }

  /** HEAD-first blob push: skip when present, else mount from `mountFrom`, else upload. */
  async push(data: Buffer, opts: { digest?: string; mountFrom?: string[]; chunkSize?: number } = {}): Promise<BlobPushResult> {
    const digest = digestOf(data);
    if (opts.digest && opts.digest !== digest) {
      this.client.fail(`DIGEST_INVALID: refusing to push blob: content hashes to ${digest}, not the declared ${opts.digest}`, undefined, 'DIGEST_INVALID');
    }
    if (await this.exists(digest, true)) return 'exists';
    let session: URL | undefined;
    for (const from of opts.mountFrom ?? []) {
      if (from === this.repo.repository) continue;
      const m = await this.mount(digest, from);
      if (m.mounted) return 'mounted';
      session = m.session;
      break;
    }
    await this.upload(data, digest, { chunkSize: opts.chunkSize, session });
    return 'uploaded';
  }

  /** GET a blob, verifying size and digest; a reset or stall mid-answer is retried (bounded). */
  async fetch(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<Buffer> {
    assertDigest(desc.digest);
    const what = `GET ${this.repo.target} blob ${desc.digest}`;
    const { body: data } = await this.client.getWhole(this.repo.registry, this.repo.path(`blobs/${desc.digest}`), { scopes: this.repo.scopes() }, what);
    if (desc.size !== undefined && desc.size >= 0 && data.length !== desc.size) {
      this.client.fail(`blob ${desc.digest}: SIZE_INVALID: got ${data.length} bytes, the descriptor says ${desc.size}; refused`, 200, 'SIZE_INVALID');
    }
    const got = digestOf(data);
    if (got !== desc.digest) this.client.fail(`blob ${desc.digest}: digest mismatch (DIGEST_INVALID): the content hashes to ${got}; refused`, 200, 'DIGEST_INVALID');
    return data;
  }
}
