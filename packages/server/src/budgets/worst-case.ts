import type { Price } from '../accounting/cost.ts';
import { type ChatMessage, charsOf } from '../generation/chat-schema.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { Amount } from './budget-store.ts';

const PER_MTOK = 1_000_000;

/**
 * A prompt's tokens before any tokenizer has seen it: about four characters
 * per token in English text, rounded up. Budgets hold this, and rows of
 * streams that never got the provider's counts record it (as "estimated").
 */
export const estimateTokens = (chars: number) => Math.ceil(chars / 4);

export const promptChars = (input: { prompt?: string | undefined; messages?: ChatMessage[] | undefined }) =>
  input.prompt?.length ?? (input.messages ?? []).reduce((sum, message) => sum + charsOf(message), 0);

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
