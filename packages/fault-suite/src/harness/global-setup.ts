import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CaseRecord, casesDir, resultsDir } from './cases.ts';

/** Starts from an empty cases/ folder and, at the end, merges every file's cases into fault-suite.json. */
export default function globalSetup() {
  rmSync(casesDir, { recursive: true, force: true });
  return () => {
    const files = existsSync(casesDir) ? readdirSync(casesDir).filter((name) => name.endsWith('.json')) : [];
    const cases = files.flatMap((name) => JSON.parse(readFileSync(join(casesDir, name), 'utf8')) as CaseRecord[]);
    const errorsByCode: Record<string, number> = {};
    for (const c of cases) if (c.gotCode) errorsByCode[c.gotCode] = (errorsByCode[c.gotCode] ?? 0) + 1;
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, 'fault-suite.json'),
      `${JSON.stringify(
        {
          cases: cases.length,
          errorsByCode,
          leaksFound: cases.filter((c) => c.leaks.length > 0).length,
          mismatches: cases.filter((c) => c.gotCode !== c.expectedCode).length,
          findings: cases.filter((c) => c.finding).map((c) => ({ name: c.name, group: c.group, finding: c.finding })),
          results: cases,
        },
        null,
        2,
      )}\n`,
    );
  };
}
