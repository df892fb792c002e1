/**
 * Blob upload sessions (distribution-spec POST → [PATCH…] → PUT?digest=), monolithic or chunked,
 * with bounded recovery: a failed chunk (5xx, reset, timeout) waits a backoff, asks the session
 * for the bytes it holds and resumes there (`uploadResumes` per session); a dead session, a failed
 * final PUT, or a DIGEST_INVALID after a resume (the session's bytes went wrong) cancels the
 * session, checks whether the blob landed anyway, and starts a new one after a backoff
 * (`uploadRestarts`).
 */
import { assertDigest } from './media';
import type { RepoEndpoint, UploadOptions } from './endpoint';
import { RegistryError, sleep } from './transport';

const DEFAULT_MONOLITHIC_LIMIT = 64 * 1024 * 1024;
const LARGE_BLOB_CHUNK = 16 * 1024 * 1024;
const RETRYABLE_UPLOAD_CODES = new Set(['CONNECTION', 'TIMEOUT', 'BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID']);

async function startSession(repo: RepoEndpoint): Promise<URL> {
  const u = repo.url('blobs/uploads/');
  const res = await repo.client.send(repo.registry, 'POST', u, { scopes: repo.scopes(true) });
  await res.body?.cancel();
  if (res.status !== 202 || !res.headers.get('location')) return repo.client.raise(res, `start upload to ${repo.target}`);
  return new URL(res.headers.get('location')!, u);
}

async function cancelSession(repo: RepoEndpoint, session: URL): Promise<void> {
  try {
    const res = await repo.client.send(repo.registry, 'DELETE', session, { scopes: repo.scopes(true), idempotent: false });
    await res.body?.cancel();
  } catch {
    /* best effort */
  }
}

/** Bytes the registry holds for an upload session, or undefined when the session is gone. */
async function sessionOffset(repo: RepoEndpoint, session: URL): Promise<{ offset: number; session: URL } | undefined> {
  try {
    const res = await repo.client.send(repo.registry, 'GET', session, { scopes: repo.scopes(true) });
    await res.body?.cancel();
    if (res.status !== 204) return undefined;
    const m = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
    const loc = res.headers.get('location');
    return { offset: m ? Number(m[1]) + 1 : 0, session: loc ? new URL(loc, session) : session };
  } catch {
    return undefined;
  }
}

/** Whether a failed session is worth a fresh one. */
function restartable(err: RegistryError, resumed: number): boolean {
  return (
    err.status === undefined ||
    err.status >= 500 ||
    err.status === 429 ||
    RETRYABLE_UPLOAD_CODES.has(err.code ?? '') ||
    (err.code === 'DIGEST_INVALID' && resumed > 0)
  );
}

/**
 * Sends `data` in PATCH chunks from the session's start, resuming after failed chunks; returns
 * the session URL to finish with. `state.resumed` counts the resumes (a later DIGEST_INVALID
 * after one means the session's bytes went wrong).
 */
async function sendChunks(repo: RepoEndpoint, maxResumes: number, data: Buffer, digest: string, chunkSize: number, session: URL, state: { session: URL; resumed: number }): Promise<URL> {
  const client = repo.client;
  let loc = session;
  let offset = 0;
  while (offset < data.length) {
    const end = Math.min(data.length, offset + chunkSize);
    let res: Response | undefined;
    let failure: RegistryError | undefined;
    try {
      res = await client.send(repo.registry, 'PATCH', loc, {
        scopes: repo.scopes(true),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end - 1}` },
        body: Buffer.from(data.subarray(offset, end)),
        idempotent: false,
      });
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      failure = err;
    }
    if (res?.status === 202) {
      await res.body?.cancel();
      const next = res.headers.get('location');
      if (next) loc = new URL(next, loc);
      state.session = loc;
      offset = end;
      continue;
    }
    if (res && res.status !== 416 && res.status !== 429 && res.status < 500) {
      return client.raise(res, `upload chunk ${offset}-${end - 1} of ${digest}`);
    }
    const e = res ? await client.errorOf(res) : { summary: failure!.message, code: failure!.code };
    const status = res?.status ?? failure!.status;
    const what = `chunk ${offset}-${end - 1}: ${e.summary}`;
    if (state.resumed >= maxResumes) throw new RegistryError(client.scrub(`${what} (${state.resumed} resume(s))`), status, e.code);
    const wait = client.transport.backoff(state.resumed, res?.headers.get('retry-after'));
    client.log(`upload of ${digest}: ${what}; retrying in ${wait} ms`);
    await sleep(wait);
    // Ask the registry where the session stands and go on from there.
    const st = await sessionOffset(repo, loc);
    if (!st || st.offset > end) {
      throw new RegistryError(client.scrub(`${what}; the upload session cannot be resumed`), status, st ? e.code : 'BLOB_UPLOAD_UNKNOWN');
    }
    client.log(`upload of ${digest} interrupted at ${offset}; resuming at ${st.offset}`);
    loc = st.session;
    state.session = loc;
    offset = st.offset;
    state.resumed++;
  }
  return loc;
}

/** The closing PUT ?digest= (with the whole blob when monolithic); checks the digest the registry stored. */
async function finish(repo: RepoEndpoint, loc: URL, digest: string, body: Buffer): Promise<void> {
  const client = repo.client;
  const put = new URL(loc);
  put.searchParams.set('digest', digest);
  const res = await client.send(repo.registry, 'PUT', put, {
    scopes: repo.scopes(true),
    headers: { 'Content-Type': 'application/octet-stream' },
    body,
    idempotent: false,
  });
  if (res.status !== 201) {
    if (res.status >= 500 || res.status === 429) {
      const e = await client.errorOf(res);
      throw new RegistryError(`final PUT: ${e.summary}`, res.status, e.code);
    }
    return client.raise(res, `upload ${digest} to ${repo.target}`);
  }
  await res.body?.cancel();
  const got = res.headers.get('docker-content-digest');
  if (got && got !== digest) client.fail(`registry stored ${digest} as ${got}`, 201, 'DIGEST_INVALID');
}

/**
 * Uploads a blob under `digest`; chunked when `chunkSize` (or the repository's) is smaller than the
 * blob. `landed` says whether the blob is in the repository after all (checked before a restart).
 */
export async function uploadBlob(
  repo: RepoEndpoint,
  options: UploadOptions,
  landed: (digest: string) => Promise<boolean>,
  data: Buffer,
  digest: string,
  opts: { chunkSize?: number; session?: URL } = {},
): Promise<void> {
  assertDigest(digest);
  const client = repo.client;
  const chunkSize = opts.chunkSize ?? options.chunkSize;
  const chunked = chunkSize !== undefined && chunkSize > 0 && data.length > chunkSize;
  if (!chunked && data.length > DEFAULT_MONOLITHIC_LIMIT && chunkSize === undefined) {
    return uploadBlob(repo, options, landed, data, digest, { ...opts, chunkSize: LARGE_BLOB_CHUNK });
  }
  const maxRestarts = options.uploadRestarts ?? 2;
  let session = opts.session;
  for (let restart = 0; ; restart++) {
    const state = { session: session!, resumed: 0 };
    try {
      if (!session) session = await startSession(repo);
      state.session = session;
      const loc = chunked ? await sendChunks(repo, options.uploadResumes ?? 3, data, digest, chunkSize!, session, state) : session;
      session = state.session;
      await finish(repo, loc, digest, chunked ? Buffer.alloc(0) : data);
      return;
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      session = state.session ?? session;
      if (!restartable(err, state.resumed) || restart >= maxRestarts) {
        if (err.message.includes(digest)) throw err;
        client.fail(`upload of ${digest} to ${repo.target} failed in ${restart + 1} upload session(s): ${err.message}`, err.status, err.code);
      }
      if (session) await cancelSession(repo, session);
      session = undefined;
      if (await landed(digest).catch(() => false)) return;
      const wait = client.transport.backoff(restart);
      client.log(`upload of ${digest} failed (${err.message}); restarting in ${wait} ms`);
      await sleep(wait);
    }
  }
}
