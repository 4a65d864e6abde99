/** How the dashboard names a model: "provider/model", as the catalog and the Generate tab do. */
export function modelLabel({ provider, model }: { provider?: string | null; model?: string | null }): string {
  // The ledger files requests no model answered (e.g. compress, or every candidate failed) under "(none)".
  if (!model || model === '(none)') return 'no model';
  return provider ? `${provider}/${model}` : model;
}

/** Only selectModel requests are classified; the others (generate, compress) have no category. */
export const categoryLabel = ({ category }: { category?: string | null }): string => category ?? 'not classified';

export const routingLabel = ({ routing }: { routing?: string | null }): string => routing ?? 'not routed';
