// Part of the SDK's asc transform (./transform.mjs): hooks that the host would never call.
// A filter that overrides a hook (onRequestBody, onTick...) of a context class but does not export
// the proxy_on_* callback that runs it would silently never see it: Envoy calls only exported
// callbacks. After compilation, every compiled class derived from the SDK's contexts is checked
// against the module's exports; a missing one fails the build with the export to add.

/** The callback that runs each hook, by the SDK class that declares the hook. */
export const HOOK_EXPORTS = {
  RootContext: {
    onVmStart: 'proxy_on_vm_start', onConfigure: 'proxy_on_configure', onTick: 'proxy_on_tick',
    onQueueReady: 'proxy_on_queue_ready', onDone: 'proxy_on_done', onDelete: 'proxy_on_delete',
    onHttpCallResponse: 'proxy_on_http_call_response',
  },
  HttpContext: {
    onRequestHeaders: 'proxy_on_request_headers', onRequestBody: 'proxy_on_request_body',
    onRequestTrailers: 'proxy_on_request_trailers', onResponseHeaders: 'proxy_on_response_headers',
    onResponseBody: 'proxy_on_response_body', onResponseTrailers: 'proxy_on_response_trailers',
    onLog: 'proxy_on_log', onDone: 'proxy_on_done', onDelete: 'proxy_on_delete',
    onHttpCallResponse: 'proxy_on_http_call_response',
  },
  TcpContext: {
    onNewConnection: 'proxy_on_new_connection', onDownstreamData: 'proxy_on_downstream_data',
    onUpstreamData: 'proxy_on_upstream_data', onDownstreamConnectionClose: 'proxy_on_downstream_connection_close',
    onUpstreamConnectionClose: 'proxy_on_upstream_connection_close', onLog: 'proxy_on_log', onDone: 'proxy_on_done',
    onDelete: 'proxy_on_delete', onHttpCallResponse: 'proxy_on_http_call_response',
  },
};
const SDK_FILE = /(^|\/)as-proxy-wasm\/assembly\/|^~lib\/as-proxy-wasm\//;
const SDK_CONTEXT = /as-proxy-wasm\/assembly\/context\/(RootContext|HttpContext|TcpContext)$/;

/** The SDK context class `cls` derives from ("RootContext", "HttpContext", "TcpContext"), or null. */
function sdkContextOf(cls) {
  for (let b = cls; b; b = b.base) {
    const m = SDK_CONTEXT.exec(b.prototype.internalName);
    if (m) return m[1];
  }
  return null;
}

/**
 * The hooks of `classes` (compiled classes: { name, file, kind, members }) whose callback is not
 * in `exported`: one message per missing callback, naming the class, the hook and the export.
 */
export function missingHookExports(classes, exported) {
  const missing = new Map();
  for (const c of classes) {
    const hooks = HOOK_EXPORTS[c.kind];
    for (const m of c.members) {
      const exp = Object.hasOwn(hooks, m) ? hooks[m] : undefined; // not Object.prototype's members
      if (exp !== undefined && !exported(exp) && !missing.has(exp)) missing.set(exp, `${c.name}.${m}`);
    }
  }
  return [...missing].map(([exp, hook]) => {
    const from = exp.includes('connection') || exp.includes('stream_data') || /downstream|upstream/.test(exp)
      ? 'as-proxy-wasm/assembly/tcp-exports' : 'as-proxy-wasm/assembly/exports';
    return `as-proxy-wasm: ${hook} is never called: the module does not export ${exp}. ` +
      `Add it to the filter's exports: export { ${exp} } from "${from}";`;
  });
}

/** The filter's classes derived from the SDK's contexts, from the compiled program. */
export function filterClasses(program) {
  const out = [];
  for (const cls of program.managedClasses.values()) {
    const file = cls.prototype.internalName;
    if (SDK_FILE.test(file)) continue; // the SDK's own classes (their hooks are the defaults)
    const kind = sdkContextOf(cls);
    if (kind === null) continue;
    // the hooks the filter declares: its own classes' members, up to the SDK class
    const members = [];
    for (let b = cls; b && !SDK_FILE.test(b.prototype.internalName); b = b.base) {
      const own = b.prototype.instanceMembers;
      if (own) members.push(...own.keys());
    }
    out.push({ name: cls.prototype.name, file, kind, members });
  }
  return out;
}

