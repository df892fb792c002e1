/**
 * The transport layer of the registry client: one HTTP exchange on Node's fetch with a timeout,
 * manual redirects (reads only; Authorization never crosses origins), and bounded retries with
 * exponential backoff on 429, 5xx, resets and timeouts. It knows nothing of auth or of the OCI
 * API: AuthClient (src/auth.ts) wraps it with the auth flow (401 → challenge → token → again),
 * and Repository (src/repository.ts) builds the blob, manifest and tag operations on that.
 */

/** An error answered by the registry (or the transport); `code` is the registry's error code. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface TransportOptions {
  /** Retries for 429/5xx/connection errors/timeouts on idempotent requests (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 250). */
  retryBaseMs?: number;
  /** Upper bound for any single wait, including Retry-After (default 10 s). */
  maxRetryDelayMs?: number;
  /**
   * Per-request timeout in ms (default 120 s): the whole exchange, answer body included. A request
   * that runs out counts as a failed try (code TIMEOUT) and is retried like a connection error.
   */
  timeoutMs?: number;
  userAgent?: string;
}

/** Retries spent by one operation, so that nested retry loops share one bound. */
export interface RetryBudget {
  retried: number;
}

export interface Exchange {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Safe to send again after a 429, a 5xx, a reset or a timeout (default true). */
  idempotent?: boolean;
  /** Follow 3xx for GET/HEAD (default true); otherwise the 3xx answer is returned. */
  followRedirects?: boolean;
  budget?: RetryBudget;
  /** How the exchange is named in log lines and errors (default `METHOD host/path`). */
  label?: string;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const CONNECTION_TEXT: Record<string, string> = {
  ECONNRESET: 'connection reset',
  ECONNREFUSED: 'connection refused',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed by the other side',
  UND_ERR_CLOSED: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  ETIMEDOUT: 'connect timed out',
};

/** What went wrong on the wire: no answer in time (TIMEOUT) or a broken connection (CONNECTION). */
export function transportFailure(err: unknown, timeoutMs: number): { code: 'TIMEOUT' | 'CONNECTION'; text: string } {
  const e = err as { cause?: { code?: string; message?: string; name?: string }; code?: string; message?: string; name?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.cause?.name === 'TimeoutError') {
    return { code: 'TIMEOUT', text: `no answer within ${timeoutMs} ms` };
  }
  const code = e?.cause?.code ?? e?.code;
  const known = code ? CONNECTION_TEXT[code] : undefined;
  const detail = known ? `${known} (${code})` : code ?? e?.cause?.message ?? e?.message ?? 'unknown error';
  return { code: 'CONNECTION', text: `connection failed: ${detail}` };
}

/** `host/path` of a URL: never its query (upload state, signed URLs) nor userinfo. */
export function where(url: URL): string {
  return `${url.host}${url.pathname}`;
}

const REDIRECTS = [301, 302, 303, 307, 308];

export class Transport {
  constructor(
    private readonly options: TransportOptions,
    /** Receives diagnostic lines; the caller scrubs secrets. */
    private readonly log: (line: string) => void = () => undefined,
    /** Removes secrets from error messages. */
    private readonly scrub: (text: string) => string = (t) => t,
  ) {}

  get timeoutMs(): number {
    return this.options.timeoutMs ?? 120_000;
  }

  get retries(): number {
    return this.options.retries ?? 4;
  }

  /** Wait before try `attempt + 1`: exponential from retryBaseMs, or Retry-After; capped by maxRetryDelayMs. */
  backoff(attempt: number, retryAfter?: string | null): number {
    let wait = (this.options.retryBaseMs ?? 250) * 2 ** attempt;
    if (retryAfter) {
      const secs = Number(retryAfter);
      wait = Number.isFinite(secs) ? secs * 1000 : Math.max(0, Date.parse(retryAfter) - Date.now());
      if (!Number.isFinite(wait)) wait = 0;
    }
    return Math.min(this.options.maxRetryDelayMs ?? 10_000, Math.max(0, wait));
  }

  private fail(message: string, status: number | undefined, code: string): never {
    throw new RegistryError(this.scrub(message), status, code);
  }

  /** One fetch, following redirects for reads; Authorization is dropped when the origin changes. */
  private async once(x: Exchange, headers: Record<string, string>): Promise<{ res: Response; url: URL }> {
    let url = x.url;
    for (let hops = 0; ; hops++) {
      const h = { ...headers };
      if (url.origin !== x.url.origin) delete h.Authorization;
      const res = await fetch(url, {
        method: x.method,
        headers: h,
        body: x.body as BodyInit | undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const location = res.headers.get('location');
      const follow = x.followRedirects !== false && (x.method === 'GET' || x.method === 'HEAD');
      if (follow && REDIRECTS.includes(res.status) && location && hops < 5) {
        await res.body?.cancel();
        url = new URL(location, url);
        continue;
      }
      return { res, url };
    }
  }

  /**
   * Sends an exchange. 429, 5xx, resets and timeouts are tried again after a backoff while the
   * budget lasts (idempotent exchanges only); the last answer is returned, the last transport
   * failure thrown (code CONNECTION or TIMEOUT). The caller consumes the body.
   */
  async send(x: Exchange): Promise<{ res: Response; url: URL }> {
    const retries = x.idempotent === false ? 0 : this.retries;
    const budget = x.budget ?? { retried: 0 };
    const headers: Record<string, string> = { 'User-Agent': this.options.userAgent ?? 'meshwasm-oras', ...(x.headers ?? {}) };
    const scheme = headers.Authorization?.split(' ')[0];
    for (;;) {
      const label = x.label ?? `${x.method} ${where(x.url)}`;
      let got: { res: Response; url: URL };
      try {
        got = await this.once(x, headers);
      } catch (err) {
        const t = transportFailure(err, this.timeoutMs);
        if (budget.retried < retries) {
          const wait = this.backoff(budget.retried);
          this.log(`${label}: ${t.text}; retrying in ${wait} ms`);
          budget.retried++;
          await sleep(wait);
          continue;
        }
        const tries = budget.retried > 0 ? ` (${budget.retried + 1} tries)` : '';
        return this.fail(`${label}: ${t.text}${tries}`, undefined, t.code);
      }
      const { res, url } = got;
      this.log(`${x.label ?? `${x.method} ${where(url)}`} -> ${res.status}${scheme ? ` (${scheme} auth)` : ''}`);
      for (const w of res.headers.get('warning')?.split(/,(?=\s*\d{3}\s)/) ?? []) this.log(`registry warning: ${w.trim()}`);
      if ((res.status === 429 || res.status >= 500) && budget.retried < retries) {
        const wait = this.backoff(budget.retried, res.headers.get('retry-after'));
        this.log(`${label}: ${res.status}; retrying in ${wait} ms`);
        await res.body?.cancel();
        budget.retried++;
        await sleep(wait);
        continue;
      }
      return got;
    }
  }

  /**
   * Reads a whole answer body (at most `limit` bytes plus one chunk). A reset or a stall in the
   * middle becomes a RegistryError (code CONNECTION or TIMEOUT) that says how far it got.
   */
  async readBody(res: Response, what: string, limit?: number): Promise<Buffer> {
    const declared = res.headers.get('content-length');
    const chunks: Buffer[] = [];
    let n = 0;
    try {
      if (res.body) {
        for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
          chunks.push(Buffer.from(c));
          n += c.length;
          if (limit !== undefined && n > limit) {
            await res.body.cancel().catch(() => undefined);
            break;
          }
        }
      }
    } catch (err) {
      const t = transportFailure(err, this.timeoutMs);
      const of = declared ? ` of ${declared}` : '';
      const how = t.code === 'TIMEOUT' ? `stalled after ${n}${of} bytes (${t.text})` : `truncated after ${n}${of} bytes (${t.text})`;
      this.fail(`${what}: answer ${how}`, res.status, t.code);
    }
    return Buffer.concat(chunks);
  }
}
