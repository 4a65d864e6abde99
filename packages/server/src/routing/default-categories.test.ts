import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog.ts';
import { readRouteNames } from './routes.ts';

// The ML service owns the default categories (names, descriptions, examples); it
// keeps them in the format of a routes file, so the gateway's own reader applies.
const DEFAULT_CATEGORIES = fileURLToPath(
  new URL('../../../ml-python/src/tokenflow_ml/default_categories.json', import.meta.url),
);

describe('the built-in catalog against the ML service default categories', () => {
  it('ranks models for exactly the categories the classifier returns by default', () => {
    const categories = readRouteNames(DEFAULT_CATEGORIES);
    const catalog = loadCatalog();

    const ranked = new Set(catalog.models.flatMap((model) => Object.keys(model.categories)));

    expect([...ranked].sort()).toEqual([...categories].sort());
    expect(categories).toContain(catalog.defaultCategory);
  });
});
