// Mappings (config `mappings`): each one sets a request header from the metadata service's answer.

import { Bytes, HeaderMap, JsonValue, hasControlChars } from "as-proxy-wasm";
import { JsonPath } from "./jsonpath";

/** The header values of one answer, one per mapping (null: that header stays absent). */
export type Values = Array<ArrayBuffer | null>;

/** What the metadata service answered (a 2xx), as the mappings read it. */
export class Answer {
  /** Values from the answer that could not become a header value (see `kept`). */
  dropped: u32 = 0;

  constructor(
    /** The body's size in bytes. */
    public size: u32,
    public headers: HeaderMap,
    /** The body's JSON, when the configuration expects JSON and the body is not empty. */
    public json: JsonValue | null,
    private maxValueBytes: i32,
  ) {}

  /** The value of each mapping in this answer. */
  valuesOf(mappings: Mapping[]): Values {
    let values = new Array<ArrayBuffer | null>(mappings.length);
    for (let i = 0; i < mappings.length; i++) unchecked(values[i] = unchecked(mappings[i]).valueIn(this));
    return values;
  }

  /**
   * `value` (from the answer) when it may become a header value: at most maxValueBytes, no control
   * character. Else null (the header stays absent), counted in `dropped`.
   */
  kept(value: ArrayBuffer | null): ArrayBuffer | null {
    if (value === null) return null;
    if (value.byteLength <= this.maxValueBytes && !hasControlChars<ArrayBuffer>(value)) return value;
    this.dropped++;
    return null;
  }
}

/** Sets the request header `header` to the value it finds in the answer (absent: no header). */
export abstract class Mapping {
  constructor(public header: Bytes) {}

  /** This mapping's value in `answer`, or null. */
  abstract valueIn(answer: Answer): ArrayBuffer | null;
}

/** `source: "bodyNonEmpty"`: `value` (from the configuration) when the answer has a body (the lab's `x-meta: 1`). */
export class Body extends Mapping {
  constructor(header: Bytes, public value: Bytes) {
    super(header);
  }

  valueIn(answer: Answer): ArrayBuffer | null {
    return answer.size > 0 ? this.value.buffer : null;
  }
}

/** `source: "header"`: the answer's header `name`. */
export class Header extends Mapping {
  constructor(header: Bytes, public name: Bytes) {
    super(header);
  }

  valueIn(answer: Answer): ArrayBuffer | null {
    return answer.kept(answer.headers.getBytes<Bytes>(this.name));
  }
}

/** `source: "json"`: the scalar at `path` in the answer's JSON body. */
export class Json extends Mapping {
  constructor(header: Bytes, public path: JsonPath) {
    super(header);
  }

  valueIn(answer: Answer): ArrayBuffer | null {
    let json = answer.json;
    return json === null ? null : answer.kept(this.path.lookup(json));
  }
}
