/**
 * The checks every filter package's tests share, as jest building blocks:
 *
 *   import { describeFilterPackage, expectConfigRejected } from '@meshwasm/labs/jest';
 *   describeFilterPackage(join(__dirname, '..'), { wasm: 'header.wasm' });
 *
 * `describeFilterPackage` registers one `describe` block: the course lab (examples/lab.json +
 * lab.exchanges.json) gives its documented outcome, examples/lab.json satisfies schema.json, and
 * the release build stays within its size budget (issue 4: every filter at most 24 KB).
 */
import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import Ajv from 'ajv';
import type { Plugin } from '@meshwasm/proxy-wasm-host';
import { COURSE } from './course';
import { runLab } from './index';

/** The project's size budget for every filter's release .wasm, in bytes. */
export const FILTER_BUDGET_BYTES = 24_000;

export interface FilterPackageChecks {
  /** file name of the release build in dist/ */
  wasm: string;
  /** the least number of lab exchanges (default 1) */
  minExchanges?: number;
  /** size budget in bytes (default FILTER_BUDGET_BYTES) */
  budgetBytes?: number;
}

/** A validator for the package's pluginConfig schema (schema.json). */
export function filterSchema(pkgDir: string): (config: unknown) => boolean {
  const schema = JSON.parse(readFileSync(join(pkgDir, 'schema.json'), 'utf8'));
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  return (config) => validate(config) as boolean;
}

export function describeFilterPackage(pkgDir: string, opts: FilterPackageChecks): void {
  const budget = opts.budgetBytes ?? FILTER_BUDGET_BYTES;
  describe('the course lab and the package budget', () => {
    test('every lab exchange gives the outcome lab.exchanges.json documents', async () => {
      const report = await runLab(pkgDir);
      expect(report.configured).toBe(true);
      expect(report.results.length).toBeGreaterThanOrEqual(opts.minExchanges ?? 1);
      for (const r of report.results) expect({ title: r.title, failures: r.failures }).toEqual({ title: r.title, failures: [] });
    });

    test('examples/lab.json satisfies schema.json', () => {
      const lab = JSON.parse(readFileSync(join(pkgDir, 'examples', 'lab.json'), 'utf8'));
      expect(filterSchema(pkgDir)(lab)).toBe(true);
    });

    test(`the release build stays within ${budget.toLocaleString('en-US')} bytes`, () => {
      expect(statSync(join(pkgDir, 'dist', opts.wasm)).size).toBeLessThanOrEqual(budget);
    });
  });
  if (existsSync(join(pkgDir, 'assembly', 'lab.ts'))) describeStudentVersion(pkgDir);
}

/** Lines of assembly/lab.ts after its opening comment: the course asks for about 60. */
export const STUDENT_MAX_LINES = 70;

/**
 * The course's student-sized version (assembly/lab.ts, built by `build-lab` to dist/<name>.lab.wasm):
 * it gives the lab's documented outcome, except the expectations the lab's `student.skip` lists
 * (with the reason in `student.why`), and its opening comment says how it differs from the
 * production filter.
 */
export function describeStudentVersion(pkgDir: string): void {
  const name = basename(pkgDir);
  describe(`the student-sized version (assembly/lab.ts -> dist/${name}.lab.wasm)`, () => {
    test('every lab exchange gives the documented outcome (but for the documented differences)', async () => {
      const report = await runLab(pkgDir, { variant: 'student' });
      expect(report.variant).toBe('student');
      expect(report.configured).toBe(true);
      for (const r of report.results) expect({ title: r.title, failures: r.failures }).toEqual({ title: r.title, failures: [] });
    });

    test('it is student-sized and says how it differs from the production filter, and why', () => {
      const lines = readFileSync(join(pkgDir, 'assembly', 'lab.ts'), 'utf8').split('\n');
      const head = lines.findIndex((l) => !l.startsWith('//'));
      const comment = lines.slice(0, head).join('\n');
      expect(comment).toMatch(/Differs from the production filter/);
      expect(comment.split('\n// - ').length).toBeGreaterThan(1); // one item per difference
      expect(lines.slice(head).filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(STUDENT_MAX_LINES);
      // a course filter fixes the course's bugs, each where it is fixed (a new filter has none to fix)
      const inCourse = Object.values(COURSE).some((lab) => lab.filters.includes(name));
      if (inCourse) expect(lines.join('\n')).toMatch(/\/\/ Fix: /);
    });
  });
}

/**
 * A configuration the filter must refuse: the plugin is not configured (Envoy rejects the
 * config), the VM did not fail, and the filter logged exactly one error line matching `message`
 * (the host adds Envoy's own "Unable to create Wasm HTTP filter" line, which is not counted).
 */
export function expectConfigRejected(p: Plugin, message: string | RegExp): void {
  expect(p.configured).toBe(false);
  expect(p.failed).toBe(false);
  const errors = p.logs.filter((l) => l.level === 'error' && !l.message.startsWith('Unable to create'));
  expect(errors.map((e) => e.message)).toHaveLength(1);
  expect(errors[0].message).toMatch(message);
}
