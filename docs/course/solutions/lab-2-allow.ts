// Lab 2, exercise: exceptions to the deny list ({"deny": ["*.example.com"], "allow":
// ["status.example.com"]}). A copy of packages/blocklist/assembly/lab.ts with the changes marked
// "Exercise". Tested by docs/course/test/solutions.test.ts.
export * from "as-proxy-wasm/assembly/exports";
import { FilterHeadersStatus, HttpContext, HttpStream, RootContext, registerRootContext } from "as-proxy-wasm";

const MODES: string[] = ["deny"]; // production: ["deny", "allow"]

class LabRoot extends RootContext {
  deny: string[] = [];
  allow: string[] = []; // Exercise: exceptions to the deny list
  status: u32 = 451;
  body: string = "blocked by wasm";

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false;
    cfg.optChoice("mode", MODES, 0); // "allow" is refused, naming the one mode this version has
    this.deny = cfg.optStrings("deny");
    this.allow = cfg.optStrings("allow"); // Exercise
    let response = cfg.optObj("response");
    if (response !== null) {
      this.status = <u32>response.optInt("status", 451, 200, 599);
      this.body = response.optStr("body", this.body);
    }
    return this.configOk(cfg);
  }

  createHttpContext(id: u32): HttpContext | null {
    return new LabBlocklist(id, this);
  }
}

// "API.Example.COM.:8443" -> "api.example.com": no port, no trailing dot, lower case.
function normalise(authority: string): string {
  let host = authority.toLowerCase();
  let colon = host.lastIndexOf(":");
  if (colon > host.lastIndexOf("]")) host = host.substring(0, colon); // not inside [IPv6]
  if (host.endsWith(".")) host = host.substring(0, host.length - 1);
  return host;
}

// "*.example.com": subdomains only; ".example.com": the domain and its subdomains; else exact.
function matches(host: string, entry: string): bool {
  if (entry.startsWith("*.")) return host.endsWith(entry.substring(1));
  if (entry.startsWith(".")) return host == entry.substring(1) || host.endsWith(entry);
  return host == entry;
}

class LabBlocklist extends HttpStream<LabRoot> {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let root = this.root; // typed: a LabRoot
    // Fix: the course read "host". Envoy hands filters the HTTP/1 Host header (and HTTP/2's
    // authority) as ":authority" only, so "host" is always absent and nothing was ever blocked.
    let authority = this.requestHeaders.get(":authority");
    let host = normalise(authority === null ? "" : authority);
    // Exercise: a host on the allow list passes, whatever the deny list says.
    for (let i = 0; i < root.allow.length; i++) {
      if (matches(host, root.allow[i])) return FilterHeadersStatus.Continue;
    }
    for (let i = 0; i < root.deny.length; i++) {
      if (matches(host, root.deny[i])) {
        this.sendLocalResponse(root.status, "blocklist_denied", root.body);
        return FilterHeadersStatus.StopIteration;
      }
    }
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new LabRoot(id));
