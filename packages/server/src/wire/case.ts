/**
 * camelCase <-> snake_case for the keys of a wire object: the one place the
 * gateway's camelCase meets the ML service's and the REST API's snake_case.
 * Only the top level is renamed: nested values (labels, model maps keyed by
 * name) are data, not field names.
 */

export type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

export type SnakeKeys<T> = { [K in keyof T as K extends string ? SnakeCase<K> : K]: T[K] };
export type CamelKeys<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

export const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const camelCase = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

// fromEntries defines own properties, so a "__proto__" key stays data and never sets the prototype.
function renameKeys(value: object, rename: (key: string) => string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [rename(key), field]));
}

/** `{ possibleCategories: … }` -> `{ possible_categories: … }`; undefined fields are left out. */
export function toSnakeKeys<T extends object>(value: T): SnakeKeys<T> {
  const out = renameKeys(value, snakeCase);
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out as SnakeKeys<T>;
}

/** `{ top_category: … }` -> `{ topCategory: … }`. */
export function toCamelKeys<T extends object>(value: T): CamelKeys<T> {
  return renameKeys(value, camelCase) as CamelKeys<T>;
}
