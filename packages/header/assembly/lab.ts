// Lab 1, student-sized: set a header on the request and on the response.
//
// Differs from the production filter (assembly/index.ts), on purpose, to stay short:
// - only "set" (no "remove", no "add");
// - no checks on names and values (production refuses bad names, CR/LF in values,
//   pseudo-headers, more than 64 entries) and no refusal of an empty configuration;
// - the default runtime (production uses the owned memory mode to stay under 8 KB).
export * from "as-proxy-wasm/assembly/exports";
import { FilterHeadersStatus, HttpContext, HttpStream, JsonValue, RootContext, registerRootContext } from "as-proxy-wasm";

class Edit {
  constructor(public name: string, public value: string) {}
}

// Reads {"request": {"set": [{"name", "value"}]}, "response": {...}} (examples/lab.json).
function readSet(cfg: JsonValue, direction: string): Edit[] {
  let edits = new Array<Edit>();
  let dir = cfg.optObj(direction);
  if (dir === null) return edits;
  let set = dir.optArr("set");
  for (let i = 0; i < set.length; i++) {
    // Envoy stores header names in lower case: store ours that way too.
    edits.push(new Edit(set[i].str("name").toLowerCase(), set[i].str("value")));
  }
  return edits;
}

class LabRoot extends RootContext {
  request: Edit[] = [];
  response: Edit[] = [];

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false;
    this.request = readSet(cfg, "request");
    this.response = readSet(cfg, "response");
    // The course hard-coded the header; here it comes from the config, and a typo in a key is
    // refused (configOk), not ignored.
    return this.configOk(cfg);
  }

  createHttpContext(id: u32): HttpContext | null {
    return new LabHeader(id, this);
  }
}

// Fix: in envoy.yaml, next to this file. The course's Envoy config lists the router filter
// without its typed_config, which current Envoy refuses at start-up; ours has it.
// HttpStream<LabRoot>: this.root is the LabRoot that created this stream, typed, no cast.
class LabHeader extends HttpStream<LabRoot> {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let edits = this.root.request;
    // set replaces every existing value: a client's own x-training is not kept next to ours.
    for (let i = 0; i < edits.length; i++) this.requestHeaders.set(edits[i].name, edits[i].value);
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let edits = this.root.response;
    for (let i = 0; i < edits.length; i++) this.responseHeaders.set(edits[i].name, edits[i].value);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new LabRoot(id));
