// Runs a compiled pattern (pattern.ts) over a body: a position-automaton simulation, one step per
// byte, that keeps for every live position the earliest start of a match reaching it. Each time
// an accepting position is live, [earliest start, here) is a match; the union of all matches is
// what gets masked. The cost per byte is bounded by the number of positions (<= 64), so a body is
// scanned in linear time whatever the pattern and the input.
import { byteAt, entry32, entry64, setEntry32, skipUntil } from "./bytes";
import { Pattern, MAX_POSITIONS } from "./pattern";
import { RangeList } from "./ranges";

/** The state of one pattern scan; one per Scanner, reused. */
export class Matcher {
  private starts: StaticArray<i32> = new StaticArray<i32>(MAX_POSITIONS);
  private nextStarts: StaticArray<i32> = new StaticArray<i32>(MAX_POSITIONS);

  /** Adds every match of `pat` in [p, p+n) to `out` as spans for `rule` (overlapping ones merged). */
  findAll(pat: Pattern, p: usize, n: i32, out: RangeList, rule: i32): void {
    let live: u64 = 0;
    let i = 0;
    while (i < n) {
      if (live == 0) {
        // nothing under way: skip to a byte a match can start with
        i = skipUntil(pat.startBytes, p, i, n);
        if (i == n) break;
      }
      let accepts = entry64(pat.accepts, byteAt(p, i));
      let starts = this.starts, nextStarts = this.nextStarts;
      let next: u64 = 0;
      // every live position moves to the positions that may follow it and accept this byte;
      // a position reached twice keeps the earlier start
      let from = live;
      while (from != 0) {
        let x = <i32>ctz(from);
        from &= from - 1;
        let start = entry32(starts, x);
        let to = entry64(pat.follow, x) & accepts;
        while (to != 0) {
          let y = <i32>ctz(to);
          to &= to - 1;
          let bit: u64 = <u64>1 << <u64>y;
          if ((next & bit) == 0 || start < entry32(nextStarts, y)) {
            setEntry32(nextStarts, y, start);
            next |= bit;
          }
        }
      }
      // a match starting at this byte (later than every live one)
      let fresh = pat.first & accepts & ~next;
      next |= fresh;
      while (fresh != 0) {
        let y = <i32>ctz(fresh);
        fresh &= fresh - 1;
        setEntry32(nextStarts, y, i);
      }
      let accepting = next & pat.last;
      if (accepting != 0) {
        let earliest = i;
        while (accepting != 0) {
          let y = <i32>ctz(accepting);
          accepting &= accepting - 1;
          earliest = min(earliest, entry32(nextStarts, y));
        }
        out.addMerged(earliest, i + 1, rule);
      }
      live = next;
      this.starts = nextStarts;
      this.nextStarts = starts;
      i++;
    }
  }
}
