import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../test-utils/start-gateway.ts';
import { catalogSchema } from './catalog.ts';
import { checkCatalogAgainstRoutes, readRouteNames } from './routes.ts';

const model = (name: string, categories: Record<string, number>) => ({
  provider: 'groq',
  model: name,
  categories,
  contextWindow: 8_000,
  price: { inputPerMTok: 0, outputPerMTok: 0 },
});

const catalog = catalogSchema.parse({
  defaultCategory: 'general',
  models: [model('a', { billing: 1, general: 1 }), model('b', { shipping: 1, legacy: 2 })],
});

function routesFile(body: unknown) {
  const path = join(mkdtempSync(join(tmpdir(), 'tokenflow-routes-')), 'routes.json');
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
}

describe('a routes file against the catalog', () => {
  it('reads the category names of a routes file and ignores the parts the ML service owns', () => {
    const path = routesFile({
      categories: [
        { name: 'billing', description: 'money', examples: ['refund?'] },
        { name: 'shipping', description: 'parcels', examples: ['where is it?'] },
      ],
    });

    expect(readRouteNames(path)).toEqual(['billing', 'shipping']);
  });

  it('refuses to start when a route has no model ranked for it, naming the route', () => {
    expect(() => checkCatalogAgainstRoutes(catalog, ['billing', 'shipping', 'account'])).toThrow(
      /ranks no model for the route\(s\) account of TOKENFLOW_ROUTES/,
    );
  });

  it('returns the catalog categories outside the routes, the default aside, for a warning', () => {
    expect(checkCatalogAgainstRoutes(catalog, ['billing', 'shipping'])).toEqual(['legacy']);
  });

  it('says which file and field is wrong in a malformed routes file', () => {
    expect(() => readRouteNames(routesFile({ categories: [{ name: '' }] }))).toThrow(
      /Invalid routes file .*routes\.json \(TOKENFLOW_ROUTES\):\n {2}categories\.0\.name: Too small.*\n {2}categories: Too small/,
    );
    expect(() => readRouteNames(routesFile('{ not json'))).toThrow(/Cannot read the routes file/);
  });
});

describe('a gateway started with TOKENFLOW_ROUTES', () => {
  const examples = join(import.meta.dirname, '../../../ml-python/data/routing/example-routes');

  it('starts with the example routes and the catalog that ranks a model for each', async () => {
    const running = await startGateway({
      TOKENFLOW_ROUTES: join(examples, 'support-routes.json'),
      TOKENFLOW_CATALOG: join(examples, 'support-catalog.json'),
    });

    const rankings = await (await fetch(`${running.url}/api/model-rankings`)).json();
    await running.close();
    expect(JSON.stringify(rankings)).toContain('billing');
  });

  it('refuses to start with the built-in catalog, which ranks nothing for the routes', async () => {
    await expect(startGateway({ TOKENFLOW_ROUTES: join(examples, 'support-routes.json') })).rejects.toThrow(
      /ranks no model for the route\(s\) billing, shipping, account/,
    );
  });
});
