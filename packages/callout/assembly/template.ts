// The callout's path template (config `path`): "/users/{header.x-user}/profile".

import { Bytes, JsonValue, formatInt, requestHeaders, isToken, percentEncodeSegment } from "as-proxy-wasm";

/** Longest template, in characters. */
const MAX_TEMPLATE_LENGTH = 2048;
const HEADER_PREFIX = "header.";
/** Longest header name, in characters. */
const MAX_HEADER_NAME = 256;

/** One piece of the callout's path, rendered for the current request. */
abstract class Part {
  abstract render(): string;
}

/** Literal text of the template. */
class Literal extends Part {
  constructor(public text: string) {
    super();
  }

  render(): string {
    return this.text;
  }
}

/**
 * `{header.<name>}`: the request header's first value, percent-encoded (empty when absent). The
 * value stays inside one path segment: `/` is sent as %2F, and a value of dots alone as %2E per
 * dot, so it never makes a `.` or `..` segment (`/users/../profile`).
 */
class HeaderValue extends Part {
  constructor(public name: Bytes) {
    super();
  }

  render(): string {
    let v = requestHeaders.getBytes<Bytes>(this.name);
    return v === null ? "" : percentEncodeSegment(v);
  }
}

/** `{path}`: the request's `:path` as is. */
class RequestPath extends Part {
  render(): string {
    let v = requestHeaders.get<string>(":path");
    return v === null ? "" : v;
  }
}

/** `{method}`: the request's `:method`. */
class RequestMethod extends Part {
  render(): string {
    let v = requestHeaders.get<string>(":method");
    return v === null ? "" : v;
  }
}

/** A parsed path template: literal text and placeholders. */
export class PathTemplate {
  parts: Part[] = [];
  /** True when a placeholder reads the request (else the path is the same for every request). */
  readsRequest: bool = false;

  /** The path for the current request. */
  render(): string {
    let path = "";
    for (let i = 0; i < this.parts.length; i++) path += unchecked(this.parts[i]).render();
    return path;
  }

  /**
   * Parses the template in `v`: literal text, `{header.<name>}`, `{path}`, `{method}`, and `{{` /
   * `}}` for literal braces. On an error, records it at `v` and returns null.
   */
  static parse(v: JsonValue): PathTemplate | null {
    let s = v.asString();
    if (v.hasError()) return null;
    if (s.length == 0 || s.charCodeAt(0) != 0x2F /* / */ || s.length > MAX_TEMPLATE_LENGTH) {
      v.fail("expected a path starting with '/' (at most 2048 characters)");
      return null;
    }
    let t = new PathTemplate();
    let text = ""; // literal text not yet in a part
    let from = 0; // start of the literal run not yet in `text`
    let i = 0;
    let n = s.length;
    while (i < n) {
      let c = s.charCodeAt(i);
      if (c <= 0x20 || c == 0x7F) {
        v.fail("whitespace or control character at offset " + formatInt(i));
        return null;
      }
      if (c != 0x7B /* { */ && c != 0x7D /* } */) {
        i++;
        continue;
      }
      if (i + 1 < n && s.charCodeAt(i + 1) == c) { // "{{" / "}}": one literal brace
        text += s.substring(from, i + 1);
        i += 2;
        from = i;
        continue;
      }
      if (c == 0x7D) {
        v.fail("unmatched '}' at offset " + formatInt(i) + " (use '}}' for a literal brace)");
        return null;
      }
      let end = s.indexOf("}", i);
      if (end < 0) {
        v.fail("unclosed '{' at offset " + formatInt(i));
        return null;
      }
      text += s.substring(from, i);
      if (text.length > 0) {
        t.parts.push(new Literal(text));
        text = "";
      }
      let placeholder = placeholderPart(s.substring(i + 1, end));
      if (placeholder === null) {
        v.fail("unknown placeholder {" + s.substring(i + 1, end) + "} (use {header.<name>}, {path} or {method})");
        return null;
      }
      t.parts.push(placeholder);
      t.readsRequest = true;
      i = end + 1;
      from = i;
    }
    text += s.substring(from, n);
    if (text.length > 0) t.parts.push(new Literal(text));
    return t;
  }
}

/** The part a placeholder's `name` stands for, or null for an unknown placeholder. */
function placeholderPart(name: string): Part | null {
  if (name == "path") return new RequestPath();
  if (name == "method") return new RequestMethod();
  if (name.startsWith(HEADER_PREFIX)) {
    let header = name.substring(HEADER_PREFIX.length);
    if (isToken(header, MAX_HEADER_NAME)) return new HeaderValue(Bytes.lower(header));
  }
  return null;
}
