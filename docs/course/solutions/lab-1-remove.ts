// Lab 1, exercise: also remove headers, named in the configuration
// ({"response": {"set": [...], "remove": ["server"]}}). A copy of packages/header/assembly/lab.ts
// with the changes marked "Exercise". Tested by docs/course/test/solutions.test.ts.
export * from "as-proxy-wasm/assembly/exports";
import { FilterHeadersStatus, HeaderMap, HttpContext, HttpStream, JsonValue, RootContext, registerRootContext } from "as-proxy-wasm";

class Edit {
  constructor(public name: string, public value: string) {}
}

class Edits {
  set: Edit[] = [];
  remove: string[] = []; // Exercise: names to drop

  apply(headers: HeaderMap): void {
    // Exercise: remove first, so that a name both removed and set ends up set.
    for (let i = 0; i < this.remove.length; i++) headers.remove(this.remove[i]);
    for (let i = 0; i < this.set.length; i++) headers.set(this.set[i].name, this.set[i].value);
  }
}

function readEdits(cfg: JsonValue, direction: string): Edits {
  let edits = new Edits();
  let dir = cfg.optObj(direction);
  if (dir === null) return edits;
  let set = dir.optArr("set");
  for (let i = 0; i < set.length; i++) edits.set.push(new Edit(set[i].str("name").toLowerCase(), set[i].str("value")));
  let names = dir.optStrings("remove"); // Exercise
  for (let i = 0; i < names.length; i++) edits.remove.push(names[i].toLowerCase());
  return edits;
}

class LabRoot extends RootContext {
  request: Edits = new Edits();
  response: Edits = new Edits();

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false;
    this.request = readEdits(cfg, "request");
    this.response = readEdits(cfg, "response");
    return this.configOk(cfg);
  }

  createHttpContext(id: u32): HttpContext | null { return new LabHeader(id, this); }
}

class LabHeader extends HttpStream<LabRoot> {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.root.request.apply(this.requestHeaders);
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.root.response.apply(this.responseHeaders);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new LabRoot(id));
