// The state of one scan: the body being read, the output being written, and the counts.
// The detectors and markers read the body and call replace(); the Scanner drives them.
import { ByteSink, byteAt } from "./bytes";
import { formEncodeByte } from "./form";
import { BodyMode, ByteClass, Rules, isClass } from "./rules";

export class ScanState {
  /** The body: `length` bytes at `start`. */
  start: usize = 0;
  length: i32 = 0;
  mode: BodyMode = BodyMode.Text;
  /** Input before this index is already in the output (copied or masked). */
  copied: i32 = 0;
  /** Where the last mask ended in the input: a span that starts there extends that mask. */
  lastMaskEnd: i32 = -1;
  masks: i32 = 0;
  /** The redacted body (valid when masks > 0). */
  output: ByteSink = new ByteSink(4096);
  /** Masks per rule index: shared with the scanner that started this one. */
  hits: StaticArray<u32> = new StaticArray<u32>(0);
  /**
   * Form fields that were percent-decoded for scanning are re-encoded on the way out: unmasked
   * input is encoded, except the byte at `rawIndex` (the field's `=`).
   */
  encodeForm: bool = false;
  rawIndex: i32 = -1;
  /** The output is (part of) a form body: masks are written form-encoded. */
  inForm: bool = false;

  constructor(public rules: Rules) {}

  /** Starts a scan of [start, start+length). */
  begin(start: usize, length: i32, mode: BodyMode): void {
    this.start = start;
    this.length = length;
    this.mode = mode;
    this.copied = 0;
    this.lastMaskEnd = -1;
    this.masks = 0;
    this.output.clear();
  }

  /** The byte at i (0 <= i < length). */
  // @ts-ignore: decorator
  @inline at(i: i32): u32 {
    return byteAt(this.start, i);
  }

  /**
   * True when the byte before i does not continue a word of class k. In JSON and text an escape
   * such as `\n` right before i is a boundary too (`"line\nBearer …"`).
   */
  wordStart(i: i32, k: ByteClass): bool {
    if (i == 0 || !isClass(this.at(i - 1), k)) return true;
    return this.mode != BodyMode.Form && i >= 2 && this.at(i - 2) == 0x5c;
  }

  /** Copies input [from, to) to the output (form-encoded when this field was decoded). */
  copyInput(from: i32, to: i32): void {
    if (to <= from) return;
    if (!this.encodeForm) {
      this.output.write(this.start + <usize>from, to - from);
      return;
    }
    this.output.reserve((to - from) * 3);
    for (let i = from; i < to; i++) {
      if (i == this.rawIndex) this.output.push(this.at(i));
      else formEncodeByte(this.output, this.at(i));
    }
  }

  /**
   * Replaces input [from, to) by `mask` for rule `rule`. The part already written is not written
   * again, and a span that continues the previous mask extends it (one mask, not two).
   */
  replace(from: i32, to: i32, mask: ArrayBuffer, rule: i32): void {
    if (from < this.copied) from = this.copied;
    if (to <= from) return;
    let hits = this.hits;
    unchecked(hits[rule] = unchecked(hits[rule]) + 1);
    this.masks++;
    if (from != this.lastMaskEnd) {
      this.copyInput(this.copied, from);
      this.output.writeBuffer(this.inForm ? this.rules.formMask : mask);
    }
    this.copied = to;
    this.lastMaskEnd = to;
  }

  /** Replaces input [from, to) by already prepared output bytes (a re-scanned form field). */
  replaceWith(from: i32, to: i32, sink: ByteSink): void {
    this.copyInput(this.copied, from);
    this.output.write(sink.start, sink.length);
    this.copied = to;
  }

  /** Finishes the output: the input after the last mask. */
  end(): void {
    if (this.masks > 0) this.copyInput(this.copied, this.length);
  }
}
