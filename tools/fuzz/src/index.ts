export { Rng, freshSeed } from './rng';
export * as gen from './gen';
export type { ExchangeSpec, CallSpec, Bytes } from './gen';
export { drive, type Outcome } from './driver';
export { randomConfig, fromSchema, mutate, compileSchema, type ConfigCase } from './configs';
export { noTrap, memoryFlat, configVerdict, notHung } from './invariants';
export { PROFILES, type Profile, type Planted } from './profiles';
export { fuzzFilter, formatFailure, type FuzzOptions, type Report, type Failure } from './run';
