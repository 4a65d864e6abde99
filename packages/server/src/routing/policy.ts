import { z } from 'zod';
import type { Catalog, CatalogModel } from './catalog.ts';
import { lacks, type Needs } from './needs.ts';

/** The category a request with tools belongs to, whatever its text says. */
export const TOOLS_CATEGORY = 'function-calling';

export const preferSchema = z.enum(['quality', 'cost', 'speed']);

export interface RouteRequest {
  /** The classifier's top category; null when classification was unavailable. */
  category: string | null;
  confidence: number | null;
  /** Tokens of the prompt as it will be sent (after compression). */
  promptTokens: number;
  maxTokens?: number | undefined;
  prefer?: z.infer<typeof preferSchema> | undefined;
  allowedProviders?: readonly string[] | undefined;
  /** Neither the input nor the output price per million tokens may exceed this. */
  maxPricePerMTok?: number | undefined;
  /** What the answering model must support (tools, images, json_schema outputs). */
  needs?: Needs | undefined;
  /** The category was decided by the request's tools, not by the classifier. */
  categoryFromTools?: boolean | undefined;
}

export interface RoutePolicy {
  /** Below this confidence the category-agnostic default category is used. */
  confidenceThreshold: number;
  /** Output tokens assumed for context fit and cost when the caller sets no maxTokens. */
  defaultMaxTokens: number;
  isConfigured(provider: string): boolean;
}

export interface Candidate {
  provider: string;
  model: string;
  rank: number;
  contextWindow: number;
  price: CatalogModel['price'];
  estimatedCostUsd: number;
}

export type RouteReason =
  | 'classified'
  | 'tools'
  | 'low-confidence'
  | 'unclassified'
  | 'unknown-category'
  | 'nothing-fits';

export interface Route {
  /** The category whose ranking was used. */
  category: string;
  reason: RouteReason;
  candidates: Candidate[];
  /** Models of that category left out, and why, for error messages and rankings. */
  excluded: Array<{ provider: string; model: string; why: string }>;
}

function rankIn(model: CatalogModel, category: string) {
  return model.categories[category];
}

function candidatesFor(catalog: Catalog, category: string, request: RouteRequest, policy: RoutePolicy) {
  const outputTokens = request.maxTokens ?? policy.defaultMaxTokens;
  const candidates: Candidate[] = [];
  const excluded: Route['excluded'] = [];
  for (const model of catalog.models) {
    const rank = rankIn(model, category);
    if (rank === undefined) continue;
    const { provider } = model;
    const unable = lacks(model, request.needs);
    const why = !policy.isConfigured(provider)
      ? `provider ${provider} is not configured`
      : unable
        ? unable
        : request.allowedProviders && !request.allowedProviders.includes(provider)
          ? `provider ${provider} is not in allowedProviders`
          : request.maxPricePerMTok !== undefined &&
              Math.max(model.price.inputPerMTok, model.price.outputPerMTok) > request.maxPricePerMTok
            ? `costs more than ${request.maxPricePerMTok} USD per million tokens`
            : request.promptTokens + outputTokens > model.contextWindow
              ? `its ${model.contextWindow}-token context cannot hold ${request.promptTokens} + ${outputTokens} tokens`
              : null;
    if (why) {
      excluded.push({ provider, model: model.model, why });
      continue;
    }
    const estimatedCostUsd =
      (request.promptTokens * model.price.inputPerMTok + outputTokens * model.price.outputPerMTok) / 1_000_000;
    candidates.push({
      provider,
      model: model.model,
      rank,
      contextWindow: model.contextWindow,
      price: model.price,
      estimatedCostUsd,
    });
  }
  return { candidates, excluded };
}

function order(candidates: Candidate[], catalog: Catalog, prefer: RouteRequest['prefer']) {
  const speed = (c: Candidate) =>
    catalog.models.find((m) => m.provider === c.provider && m.model === c.model)?.tokensPerSecond ?? 0;
  const byRank = (a: Candidate, b: Candidate) => a.rank - b.rank;
  const compare =
    prefer === 'cost'
      ? (a: Candidate, b: Candidate) => a.estimatedCostUsd - b.estimatedCostUsd || byRank(a, b)
      : prefer === 'speed'
        ? (a: Candidate, b: Candidate) => speed(b) - speed(a) || byRank(a, b)
        : byRank;
  return [...candidates].sort(compare);
}

/**
 * Picks the ranked models for a request: the classified category's ranking when
 * the classifier is confident and the catalog knows the category, else the
 * default category's; only models that are configured, capable of what the
 * request needs, allowed, affordable and large enough; ordered by rank, or by cost or speed when the caller prefers.
 */
export function route(catalog: Catalog, request: RouteRequest, policy: RoutePolicy): Route {
  const known = (category: string) => catalog.models.some((m) => rankIn(m, category) !== undefined);
  let category = catalog.defaultCategory;
  let reason: RouteReason = 'unclassified';
  if (request.category !== null) {
    if (!known(request.category)) reason = 'unknown-category';
    else if (request.categoryFromTools) {
      category = request.category;
      reason = 'tools';
    } else if ((request.confidence ?? 0) < policy.confidenceThreshold) reason = 'low-confidence';
    else {
      category = request.category;
      reason = 'classified';
    }
  }

  let { candidates, excluded } = candidatesFor(catalog, category, request, policy);
  if (candidates.length === 0 && category !== catalog.defaultCategory) {
    const fallback = candidatesFor(catalog, catalog.defaultCategory, request, policy);
    if (fallback.candidates.length > 0) {
      category = catalog.defaultCategory;
      reason = 'nothing-fits';
      candidates = fallback.candidates;
      excluded = [...excluded, ...fallback.excluded];
    }
  }
  return { category, reason, candidates: order(candidates, catalog, request.prefer), excluded };
}

/** What one image adds to a prompt, high (OpenAI counts 765 tokens for a 1024x1024 image in high detail). */
export const IMAGE_TOKENS = 1_000;

/**
 * A deliberately high estimate (3 characters a token, rounded up) so context-window checks err
 * on the safe side: English averages about 4 with cl100k, code and other languages fewer. The ML
 * service's estimate_tokens (ml-python/src/tokenflow_ml/metrics.py) is the same rule. Takes the
 * text, or its length.
 */
export function estimateTokens(text: string | number): number {
  return Math.ceil((typeof text === 'string' ? text.length : text) / 3);
}
