/** Where a repository lives and how to address it: its registry, name, scopes, paths, and the auth client that reaches it. */
import { scopeFor, type AuthClient } from './auth';

export interface Repo {
  registry: string;
  repository: string;
}

/** Upload behaviour of a repository's blob store. */
export interface UploadOptions {
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default: monolithic up to 64 MiB). */
  chunkSize?: number;
  /** Times one upload session resumes after a failed chunk, asking the registry for its offset (default 3). */
  uploadResumes?: number;
  /** Fresh upload sessions after the first one of a blob fails (default 2). */
  uploadRestarts?: number;
}

export class RepoEndpoint implements Repo {
  constructor(
    readonly client: AuthClient,
    readonly registry: string,
    readonly repository: string,
  ) {}

  /** `registry/repository`, as messages name it. */
  get target(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** Auth scopes for pulling from (or pushing to) this repository. */
  scopes(push = false): string[] {
    return [scopeFor(this.repository, push ? 'pull,push' : 'pull')];
  }

  /** A path under `/v2/<repository>/`. */
  path(rest: string): string {
    return `/v2/${this.repository}/${rest}`;
  }

  /** A URL under `/v2/<repository>/` on this registry. */
  url(rest: string): URL {
    return new URL(this.path(rest), this.client.baseUrl(this.registry));
  }
}
