// The status of the last SDK call that returns a value instead of a Status, and status names.

import { Status } from "./enums";
import { formatInt } from "./format";

/** Status of the last SDK call that returns a value rather than a Status. */
let lastStatusValue: Status = Status.Ok;
// @ts-ignore: decorator
@inline export function setLastStatus(s: Status): void {
  lastStatusValue = s;
}
/** Status of the last SDK read that returned a value or null instead of a Status. */
export function lastStatus(): Status {
  return lastStatusValue;
}


/** Human-readable name of a Status, for log lines. */
export function statusName(s: Status): string {
  // One literal for all names (ids 0..12 are contiguous): smaller than one literal per case.
  // (Inside the function: a module-level literal would be linked into every filter.)
  const STATUS_NAMES = "Ok NotFound BadArgument SerializationFailure ParseFailure BadExpression InvalidMemoryAccess Empty CasMismatch ResultMismatch InternalFailure BrokenConnection Unimplemented";
  let i = <i32>s;
  if (<u32>i > <u32>Status.Unimplemented) return "Status(" + formatInt(i) + ")";
  let p = changetype<usize>(STATUS_NAMES);
  let end = p + (<usize>STATUS_NAMES.length << 1);
  for (; i > 0; p += 2) if (load<u16>(p) == 0x20) i--;
  let q = p;
  while (q < end && load<u16>(q) != 0x20) q += 2;
  let out = __new(q - p, idof<String>());
  memory.copy(out, p, q - p);
  return changetype<string>(out);
}
