import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Leak } from './leaks.ts';

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results');
export const casesDir = join(resultsDir, 'cases');

/** One fault case as the report lists it. `null` codes mean "no error". */
export interface CaseRecord {
  name: string;
  group: string;
  /** The documented code, or several joined with " | "; null: success. */
  expectedCode: string | null;
  gotCode: string | null;
  ms: number;
  /** How long after the case its sockets and timers took to be released. */
  settledMs: number;
  leaks: Leak[];
  /** Set when the gateway does something the specification would not accept today. */
  finding?: string;
}

// Test files run in separate workers, each with its own copy of this module:
// every file writes its own cases/<file>.json, and the global teardown merges them.
const records: CaseRecord[] = [];
let file = 'unknown';

export function recordCase(record: CaseRecord) {
  file = basename(expect.getState().testPath ?? file);
  records.push(record);
}

export function writeCases() {
  if (records.length === 0) return;
  mkdirSync(casesDir, { recursive: true });
  writeFileSync(join(casesDir, `${file}.json`), `${JSON.stringify(records, null, 2)}\n`);
}
