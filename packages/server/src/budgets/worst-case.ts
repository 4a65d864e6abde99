import type { Price } from '../accounting/cost.ts';
import { type ChatMessage, charsOf, imageCount } from '../generation/chat-schema.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { Budgets } from './budget-schema.ts';
import type { Amount } from './budget-store.ts';

const PER_MTOK = 1_000_000;

/**
 * A prompt's tokens before any tokenizer has seen it: about four characters
 * per token in English text, rounded up. Budgets hold this, and rows of
 * streams that never got the provider's counts record it (as "estimated").
 */
export const estimateTokens = (chars: number) => Math.ceil(chars / 4);

/** What an image costs as input: about 765 tokens for a high-detail 1024×1024 at OpenAI; held on the high side. */
const TOKENS_PER_IMAGE = 1000;

/**
 * A request's prompt tokens, estimated on the high side: its text, the JSON
 * of its tools (sent as part of the prompt) and its images.
 */
export function estimatePromptTokens(input: {
  prompt?: string | undefined;
  messages?: ChatMessage[] | undefined;
  tools?: unknown[] | undefined;
}): number {
  const messages = input.messages ?? [];
  const chars =
    (input.prompt?.length ?? messages.reduce((sum, message) => sum + charsOf(message), 0)) +
    (input.tools ? JSON.stringify(input.tools).length : 0);
  return estimateTokens(chars) + imageCount(messages) * TOKENS_PER_IMAGE;
}

/**
 * A key with budgets is held to what it reserved: when the request sets no
 * maxTokens, the provider is sent the one the hold assumed, so the answer
 * cannot cost more than was held. Keys without budgets are left alone.
 */
export function boundedByBudget<T extends { maxTokens?: number | undefined }>(
  input: T,
  ctx: {
    budgets: { applies(own: Budgets | undefined): boolean } | null;
    principal: { budgets?: Budgets | undefined };
    config: { ROUTING_DEFAULT_MAX_TOKENS: number };
  },
): T {
  const budgeted = ctx.budgets?.applies(ctx.principal.budgets) ?? false;
  return budgeted && input.maxTokens === undefined
    ? { ...input, maxTokens: ctx.config.ROUTING_DEFAULT_MAX_TOKENS }
    : input;
}

/** What a request may cost at most: its prompt and maxTokens of output, at the dearest of the prices it may run at. */
export interface WorstCase extends Amount {
  promptTokens: number;
}

/**
 * `prices` are the models the request may end up on: the one named
 * (generate), or every catalog model routing may pick (selectModel). An
 * unpriced model adds no dollars: its cost is unknown, so only its tokens count.
 */
export function worstCase(promptTokens: number, maxTokens: number, prices: Array<Price | undefined>): WorstCase {
  const usd = Math.max(
    0,
    ...prices.map((price) =>
      price ? (promptTokens * price.inputPerMTok + maxTokens * price.outputPerMTok) / PER_MTOK : 0,
    ),
  );
  return { promptTokens, tokens: promptTokens + maxTokens, usd };
}

/** The catalog models selectModel may route to, given the request's own restrictions. */
export function routablePrices(
  catalog: Catalog,
  input: { allowedProviders?: string[] | undefined; maxPricePerMTok?: number | undefined },
): Price[] {
  return catalog.models
    .filter((model) => !input.allowedProviders || input.allowedProviders.includes(model.provider))
    .filter(
      (model) =>
        input.maxPricePerMTok === undefined ||
        Math.max(model.price.inputPerMTok, model.price.outputPerMTok) <= input.maxPricePerMTok,
    )
    .map((model) => model.price);
}
