/** Reading a registry's error answers: `{"errors":[{"code","message","detail"}]}` and the status. */
import { RegistryError } from './transport';

export { RegistryError };

export function parseErrorBody(text: string): { code?: string; message?: string; detail?: string } {
  try {
    const v = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    const e = v.errors?.[0];
    if (!e) return {};
    let detail: string | undefined;
    if (e.detail !== undefined && e.detail !== null) {
      detail = typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail);
      if (detail.length > 200) detail = `${detail.slice(0, 200)}…`;
    }
    return { code: e.code, message: e.message, detail };
  } catch {
    return {};
  }
}

/** The registry's code for a status that came without one (401, 403, 429). */
export function codeForStatus(status: number): string | undefined {
  return status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'DENIED' : status === 429 ? 'TOOMANYREQUESTS' : undefined;
}

/** Reads an error answer into `503 UNAVAILABLE: message (detail)` and the registry's code (not scrubbed). */
export async function describeError(res: Response): Promise<{ summary: string; code?: string }> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* the answer broke off: the status says enough */
  }
  const { code, message, detail } = parseErrorBody(text);
  const c = code ?? codeForStatus(res.status);
  const summary = `${res.status}${c ? ` ${c}` : ''}${message ? `: ${message}` : text && !code ? `: ${text.trim().slice(0, 200)}` : ''}${detail ? ` (${detail})` : ''}`;
  return { summary, code: c };
}
