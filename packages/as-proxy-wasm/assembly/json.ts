// A small JSON reader for plugin configuration: one pass into a compact tree,
// then typed reads that record the FIRST error with its exact path, e.g.
//   config.request.set[0].name: expected string, got number
// Nothing throws or traps; after an error every read returns its fallback.
//
// Byte path: strings and keys stay UTF-8 (ranges of the parser's copy of the
// input, unescaped in place) and are decoded to AssemblyScript
// strings only when asked for (asString, strValue, keyList); keys are matched
// as bytes; the first error is rendered once, straight to UTF-8 (errorBytes),
// so a filter that reads with asBytes and logs through configJson/configOk
// links neither the UTF-8 decoder nor String concatenation.
//
// Size notes: values keep a parent link and their index instead of a path
// (paths are only rendered for an error message), numbers are read as
// mantissa + decimal exponent with one scaling step, and the parser passes no
// results up: the first syntax error ends the input (see the parser below).

// The reader is in three files: ./json-value (the tree and its typed reads), ./json-parse (the
// parser) and ./json-number (the value of a number's text).

export { JsonValue, JsonKind, jsonKindName } from "./json-value";
export { parseJson, parseJsonString, parseJsonAt } from "./json-parse";
