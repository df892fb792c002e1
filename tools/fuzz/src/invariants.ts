/**
 * The invariants. Each returns null when it holds, or one sentence saying what broke.
 */
import type { Plugin } from '@meshwasm/proxy-wasm-host';
import type { Outcome } from './driver';

/** The host reports a trap (any Function: … failed) as `plugin.failed`. */
export function noTrap(p: Plugin): string | null {
  if (!p.failed) return null;
  const crit = p.logs.filter((l) => l.level === 'critical').map((l) => l.message.split('\n')[0]);
  return `the VM trapped: ${crit.at(-1) ?? '(no message)'}`;
}

/** Linear memory stopped growing after warm-up. */
export function memoryFlat(afterWarmUp: number, now: number): string | null {
  return now <= afterWarmUp ? null : `linear memory grew after warm-up: ${afterWarmUp} -> ${now} bytes`;
}

/**
 * A config the schema refuses is refused (on_configure false) with exactly one error-level line
 * from the plugin; a config the schema accepts is configured, unless its one error line is about
 * something a JSON schema cannot express (`beyondSchema`, e.g. the syntax of a regular expression).
 */
export function configVerdict(schemaValid: boolean, configured: boolean, failed: boolean, pluginErrorLines: string[], beyondSchema: RegExp[] = []): string | null {
  if (failed) return 'the VM trapped while configuring';
  if (schemaValid && !configured && pluginErrorLines.length === 1 && beyondSchema.some((r) => r.test(pluginErrorLines[0]))) return null;
  if (schemaValid) return configured ? null : `the schema accepts this config but the filter refused it: ${pluginErrorLines[0] ?? '(no error line)'}`;
  if (configured) return 'the schema refuses this config but the filter accepted it';
  if (pluginErrorLines.length !== 1) return `refused with ${pluginErrorLines.length} error lines (want exactly 1)${pluginErrorLines.length ? ': ' + pluginErrorLines.map((l) => JSON.stringify(l)).join(', ') : ''}`;
  return null;
}

/** Every request paused by the filter was resumed or answered (the idle timeout never had to). */
export function notHung(o: Outcome): string | null {
  return o.hung ? `the request was left paused: only Envoy's stream idle timeout ended it (${o.calls} http call(s) answered)` : null;
}
