/** A /classify answer as the Python service sends it, for stand-in services in tests. */
export const CLASSIFY_RESPONSE = {
  labels: [{ label: 'code', score: 0.9 }],
  top_category: 'code',
  confidence: 0.9,
  backend: 'embedding',
  model: 'm',
  elapsed_ms: 1,
};
