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
  /** Takes `image_url` content parts. */
  supportsVision: z.boolean().default(false),
  /** Honours `response_format: { type: 'json_schema' }`. */
  supportsStructuredOutputs: z.boolean().default(false),
  /** Honours `response_format: { type: 'json_object' }`; most OpenAI-compatible APIs do. */
  supportsJsonMode: z.boolean().default(true),
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

/** A JSON file's content; `what` names the file in the error ("the model catalog x.json"). */
export function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CatalogError(`Cannot read ${what}: ${(error as Error).message}`);
  }
}

/** `raw` checked against `schema`, or one error listing every issue; `whole` names a top-level one. */
export function validated<S extends z.ZodType>(raw: unknown, schema: S, what: string, whole: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || whole}: ${i.message}`);
    throw new CatalogError(`Invalid ${what}:\n${issues.join('\n')}`);
  }
  return parsed.data;
}

/** The built-in catalog, or the JSON file at `path` (TOKENFLOW_CATALOG), validated. */
export function loadCatalog(path?: string): Catalog {
  const raw = path ? readJson(path, `the model catalog ${path}`) : defaultCatalog;
  return validated(raw, catalogSchema, `model catalog ${path ?? '(built-in)'}`, '(catalog)');
}

/** The catalog's price for one provider/model, or undefined when the catalog does not list it. */
export function priceOf(catalog: Catalog, ref: { provider: string; model: string }): CatalogModel['price'] | undefined {
  return catalog.models.find((m) => m.provider === ref.provider && m.model === ref.model)?.price;
}
