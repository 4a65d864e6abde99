/**
 * `pnpm --filter @tokenflow/server gen:ml`: the gateway's zod schemas of the ML service's wire
 * format (src/ml/wire.gen.ts), generated from the service's checked-in OpenAPI
 * (packages/ml-python/openapi.json; `python -m tokenflow_ml.openapi_spec` writes it).
 * src/ml/wire.gen.test.ts fails when the checked-in file is not what this script makes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@hey-api/openapi-ts';

const SERVER_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SPEC_PATH = resolve(SERVER_ROOT, '../ml-python/openapi.json');
export const WIRE_PATH = resolve(SERVER_ROOT, 'src/ml/wire.gen.ts');
export const GEN_COMMAND = 'pnpm --filter @tokenflow/server gen:ml';

/** The routes the gateway calls; their schemas, and what those reference, are generated. */
const OPERATIONS = ['POST /classify', 'POST /compress', 'GET /readyz'];

const isNever = (schema: false | { type?: string } | undefined) => schema === false || schema?.type === 'never';

const HEADER = `// Generated from packages/ml-python/openapi.json by \`${GEN_COMMAND}\`: do not edit.\n`;

/** The generated module's text, formatted as the repository's Biome formats it. */
export async function generateWire(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'tokenflow-ml-wire-'));
  try {
    await createClient({
      input: SPEC_PATH,
      output: { path: out, clean: true },
      logs: { level: 'silent' },
      parser: { filters: { operations: { include: OPERATIONS } } },
      plugins: [
        {
          name: 'zod',
          // Only the components: the gateway names its schemas, not the routes'.
          requests: { enabled: false },
          responses: { enabled: false },
          '~resolvers': {
            // pydantic's extra="forbid" is `additionalProperties: false`; the plugin would
            // emit z.object, which drops unknown fields instead of refusing them.
            object: (ctx) =>
              isNever(ctx.schema.additionalProperties)
                ? ctx.$(ctx.symbols.z).attr('strictObject').call(ctx.nodes.shape(ctx))
                : undefined,
          },
        },
      ],
    });
    const generated = await readFile(join(out, 'zod.gen.ts'), 'utf8');
    return format(HEADER + generated);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function format(source: string): string {
  const biome = resolve(SERVER_ROOT, '../../node_modules/.bin/biome');
  return execFileSync(biome, ['check', '--write', `--stdin-file-path=${WIRE_PATH}`], {
    cwd: SERVER_ROOT,
    input: source,
    encoding: 'utf8',
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await writeFile(WIRE_PATH, await generateWire());
  console.log(`wrote ${WIRE_PATH}`);
}
