import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from './gateway-metrics.ts';

const value = async (
  metrics: ReturnType<typeof createGatewayMetrics>,
  name: string,
  labels: Record<string, string>,
) => {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(([key, wanted]) => String(v.labels[key]) === wanted),
  );
  return match?.value ?? 0;
};

const usage = {
  promptTokens: 10,
  completionTokens: 5,
  totalTokens: 15,
  costUsd: 0.25,
  costSource: 'provider' as const,
};

describe('gateway metrics', () => {
  it('records a stream once: outcome, time to first token, duration, tokens and cost under the answering model', async () => {
    const metrics = createGatewayMetrics({ knownModels: [{ provider: 'groq', model: 'llama' }] });
    const meter = metrics.stream('selectModel', 'alice');
    meter.event({ type: 'metadata', provider: 'groq', model: 'llama' } as { type: string });
    meter.event({
      type: 'fallback',
      from: { provider: 'groq', model: 'llama' },
      to: { provider: 'openrouter', model: 'grok' },
      code: 'BAD_GATEWAY',
    } as { type: string });
    meter.event({ type: 'reasoning', text: 'hm' } as { type: string });
    meter.event({ type: 'text', text: 'hi' } as { type: string });
    meter.event({ type: 'end', provider: 'openrouter', model: 'grok', finishReason: 'stop', usage } as {
      type: string;
    });
    meter.settle(true);
    meter.finish('INTERNAL_SERVER_ERROR');

    expect(await value(metrics, 'tokenflow_requests_total', { procedure: 'selectModel', code: 'OK' })).toBe(1);
    expect(await value(metrics, 'tokenflow_requests_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(0);
    expect(await value(metrics, 'tokenflow_fallbacks_total', { from_provider: 'groq', code: 'BAD_GATEWAY' })).toBe(1);
    const grok = { provider: 'openrouter', model: 'grok' };
    expect(await value(metrics, 'tokenflow_time_to_first_token_seconds', { ...grok, le: '+Inf' })).toBe(1);
    expect(await value(metrics, 'tokenflow_stream_duration_seconds', { ...grok, le: '+Inf' })).toBe(1);
    expect(await value(metrics, 'tokenflow_tokens_total', { ...grok, key: 'alice', direction: 'in' })).toBe(10);
    expect(await value(metrics, 'tokenflow_tokens_total', { ...grok, key: 'alice', direction: 'out' })).toBe(5);
    expect(await value(metrics, 'tokenflow_cost_usd_total', { ...grok, key: 'alice' })).toBe(0.25);
  });

  it('counts a stream the caller left before its end event as CLIENT_CLOSED_REQUEST', async () => {
    const metrics = createGatewayMetrics();
    const meter = metrics.stream('generate', 'anonymous');
    meter.event({ type: 'metadata', provider: 'groq', model: 'm' } as { type: string });
    meter.settle(true);
    expect(await value(metrics, 'tokenflow_requests_total', { code: 'CLIENT_CLOSED_REQUEST' })).toBe(1);
  });

  it('reads gauges from the sources at scrape time, breakers as 0 closed, 1 half-open, 2 open', async () => {
    const metrics = createGatewayMetrics();
    metrics.watch({
      connections: () => 3,
      streams: () => 2,
      breakers: () => ({
        groq: { state: 'open' },
        'ml-service': { state: 'half-open' },
        openrouter: { state: 'closed' },
      }),
    });
    const { body, contentType } = await metrics.scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('tokenflow_websocket_connections 3');
    expect(body).toContain('tokenflow_active_streams 2');
    expect(body).toContain('tokenflow_circuit_breaker_state{breaker="groq"} 2');
    expect(body).toContain('tokenflow_circuit_breaker_state{breaker="ml-service"} 1');
    expect(body).toContain('tokenflow_circuit_breaker_state{breaker="openrouter"} 0');
    // prom-client's process metrics ride along, collected once per process.
    expect(body).toContain('process_cpu_user_seconds_total');
  });

  it('keeps registries apart, so several gateways in one process never share a counter', async () => {
    const [a, b] = [createGatewayMetrics(), createGatewayMetrics()];
    a.rateLimited('alice', 'requests');
    expect(await value(a, 'tokenflow_rate_limit_rejections_total', { key: 'alice', limit: 'requests' })).toBe(1);
    expect(await value(b, 'tokenflow_rate_limit_rejections_total', { key: 'alice', limit: 'requests' })).toBe(0);
  });
});
