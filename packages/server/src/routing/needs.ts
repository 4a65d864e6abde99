import type { CatalogModel } from './catalog.ts';

/** What a request needs of the model that answers it (generation/chat-schema.ts's needsOf says). */
export interface Needs {
  /** Tools, or earlier tool calls and results in the messages. */
  tools: boolean;
  /** Images in the messages. */
  vision: boolean;
  /** A `json_schema` response format. */
  structuredOutputs: boolean;
  /** A `json_object` response format. */
  jsonMode: boolean;
}

/** Why a model cannot serve what the request needs (each missing flag), or null when it can. */
export function lacks(model: CatalogModel, needs: Needs | undefined): string | null {
  if (!needs) return null;
  const missing = [
    needs.tools && !model.supportsTools && 'does not support tools (supportsTools)',
    needs.vision && !model.supportsVision && 'does not take images (supportsVision)',
    needs.structuredOutputs &&
      !model.supportsStructuredOutputs &&
      'does not support json_schema response formats (supportsStructuredOutputs)',
    needs.jsonMode && !model.supportsJsonMode && 'does not support json_object response formats (supportsJsonMode)',
  ].filter((why): why is string => typeof why === 'string');
  return missing.length > 0 ? missing.join(', ') : null;
}
