// Spans to mask found before the main pass (JSON field values, pattern matches), kept in order.
import { IntList } from "./bytes";

/** Which replacement a span gets. */
export enum MaskKind {
  /** the mask, e.g. the content of a JSON string */
  Plain = 0,
  /** "mask", replacing a whole JSON value (number, object, ...) */
  Quoted = 1,
  /** \"mask\", replacing a whole value of JSON carried inside a JSON string */
  EscapedQuoted = 2,
}

/** Spans from one source, in increasing start order and not overlapping. */
export class RangeList {
  starts: IntList = new IntList();
  ends: IntList = new IntList();
  rules: IntList = new IntList();
  kinds: IntList = new IntList();
  /** Index of the next span the scanner has not taken yet. */
  cursor: i32 = 0;

  clear(): void {
    this.starts.clear();
    this.ends.clear();
    this.rules.clear();
    this.kinds.clear();
    this.cursor = 0;
  }

  get length(): i32 {
    return this.starts.length;
  }

  add(start: i32, end: i32, rule: i32, kind: MaskKind): void {
    this.starts.push(start);
    this.ends.push(end);
    this.rules.push(rule);
    this.kinds.push(<i32>kind);
  }

  /**
   * Adds [start, end), merged with the spans it overlaps or touches (pattern matches may end in any
   * order of their starts: the union of all of them is what gets masked).
   */
  addMerged(start: i32, end: i32, rule: i32): void {
    while (this.length > 0 && start <= this.ends.get(this.length - 1)) {
      let last = this.length - 1;
      start = min(start, this.starts.get(last));
      end = max(end, this.ends.get(last));
      this.starts.pop();
      this.ends.pop();
      this.rules.pop();
      this.kinds.pop();
    }
    this.add(start, end, rule, MaskKind.Plain);
  }

  /** Start of the next span not taken, or i32.MAX_VALUE. */
  nextStart(): i32 {
    return this.cursor < this.length ? this.starts.get(this.cursor) : i32.MAX_VALUE;
  }
}
