import { readFileSync } from 'node:fs';
import { z } from 'zod';
import defaultCatalog from './default-catalog.json' with { type: 'json' };

const category = z.string().min(1).max(64);

export const catalogModelSchema = z.object({
  provider: z.string().min(1),
  model: z.string().min(1),
  /** Rank per category this model serves: 1 is the first choice. */
  categories: z.record(category, z.number().int().min(1)),
  contextWindow: z.number().int().positive(),
  price: z.object({
    inputPerMTok: z.number().nonnegative(),
    outputPerMTok: z.number().nonnegative(),
  }),
  /** Typical output speed, for `prefer: 'speed'`. */
  tokensPerSecond: z.number().positive().optional(),
  supportsReasoning: z.boolean().default(false),
  supportsTools: z.boolean().default(false),
});

export const catalogSchema = z
  .object({
    /** Where low-confidence, unknown or unclassified prompts go. */
    defaultCategory: category,
    models: z.array(catalogModelSchema).min(1),
  })
  .refine((c) => c.models.some((m) => c.defaultCategory in m.categories), {
    message: 'no model serves the default category',
    path: ['defaultCategory'],
  })
  .refine((c) => new Set(c.models.map((m) => `${m.provider}/${m.model}`)).size === c.models.length, {
    message: 'a provider/model pair is listed twice',
    path: ['models'],
  });

export type Catalog = z.infer<typeof catalogSchema>;
export type CatalogModel = z.infer<typeof catalogModelSchema>;

export class CatalogError extends Error {
  override name = 'CatalogError';
}

/** The built-in catalog, or the JSON file at `path` (TOKENFLOW_CATALOG), validated. */
export function loadCatalog(path?: string): Catalog {
  let raw: unknown = defaultCatalog;
  if (path) {
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new CatalogError(`Cannot read the model catalog ${path}: ${(error as Error).message}`);
    }
  }
  const parsed = catalogSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(catalog)'}: ${i.message}`);
    throw new CatalogError(`Invalid model catalog ${path ?? '(built-in)'}:\n${issues.join('\n')}`);
  }
  return parsed.data;
}

/** The catalog's price for one provider/model, or undefined when the catalog does not list it. */
export function priceOf(catalog: Catalog, ref: { provider: string; model: string }): CatalogModel['price'] | undefined {
  return catalog.models.find((m) => m.provider === ref.provider && m.model === ref.model)?.price;
}
