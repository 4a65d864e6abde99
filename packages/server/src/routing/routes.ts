import { z } from 'zod';
import { type Catalog, CatalogError, readJson, validated } from './catalog.ts';

/**
 * The gateway's view of a routes file (TOKENFLOW_ROUTES): only the category names.
 * The ML service owns the whole format (packages/ml-python/src/tokenflow_ml/routing/routes.py)
 * and validates descriptions and examples; here we only need to know what it can return.
 */
const routesNamesSchema = z.object({
  categories: z.array(z.object({ name: z.string().trim().min(1).max(64) })).min(2),
});

export function readRouteNames(path: string): string[] {
  const what = `routes file ${path} (TOKENFLOW_ROUTES)`;
  const routes = validated(readJson(path, `the ${what}`), routesNamesSchema, what, '(file)');
  return routes.categories.map((c) => c.name);
}

/**
 * With a team's own routes, every route must have a model ranked for it, or its
 * prompts could only ever reach the default category. Returns the catalog's
 * categories the classifier never returns by itself (only a caller's own
 * possibleCategories reach them), for a warning.
 */
export function checkCatalogAgainstRoutes(catalog: Catalog, routes: readonly string[]): string[] {
  const ranked = new Set(catalog.models.flatMap((m) => Object.keys(m.categories)));
  const unserved = routes.filter((name) => !ranked.has(name));
  if (unserved.length > 0) {
    throw new CatalogError(
      `The model catalog ranks no model for the route(s) ${unserved.join(', ')} of TOKENFLOW_ROUTES: ` +
        'add them to the categories of at least one model in TOKENFLOW_CATALOG.',
    );
  }
  return [...ranked].filter((name) => !routes.includes(name) && name !== catalog.defaultCategory);
}
