import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GEN_COMMAND, generateWire, WIRE_PATH } from '../../scripts/gen-ml-wire.ts';

describe('wire.gen.ts', () => {
  it('is what packages/ml-python/openapi.json generates', async () => {
    const generated = await generateWire();

    const checkedIn = await readFile(WIRE_PATH, 'utf8');

    expect(checkedIn, `src/ml/wire.gen.ts is stale: run \`${GEN_COMMAND}\``).toBe(generated);
  }, 60_000);
});
