import { type Attributes, context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/**
 * Optional OpenTelemetry traces: a span per stream or call on the gateway, a
 * child span per ML call (its `traceparent` makes the ML service's span a child
 * too) and per provider request. Without OTEL_EXPORTER_OTLP_ENDPOINT nothing is
 * set up, and the API's no-op tracer costs next to nothing.
 */
export const tracer = trace.getTracer('tokenflow-gateway');

let provider: NodeTracerProvider | null = null;

export interface TracingOptions {
  /** OTLP/HTTP base URL, e.g. http://collector:4318 (spans go to <url>/v1/traces). */
  endpoint: string | undefined;
  serviceName: string;
}

/** Installs the SDK once per process; returns a function that flushes and stops it. */
export function startTracing({ endpoint, serviceName }: TracingOptions): () => Promise<void> {
  if (!endpoint || provider) return async () => {};
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  const started = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
  });
  started.register({ propagator: new W3CTraceContextPropagator() });
  provider = started;
  return async () => {
    if (provider !== started) return;
    provider = null;
    await started.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
}

/** True once startTracing has installed the SDK (an exporter is configured). */
export const tracingOn = () => provider !== null;

/** Starts a span as a child of the active one. */
export function startSpan(name: string, kind: SpanKind, attributes: Attributes = {}): Span {
  return tracer.startSpan(name, { kind, attributes }, context.active());
}

/** Ends a span with the outcome: an error code, or OK. */
export function endSpan(span: Span, error?: unknown) {
  if (error !== undefined) {
    const code = (error as { code?: unknown }).code;
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : 'error' });
    if (typeof code === 'string') span.setAttribute('tokenflow.error_code', code);
  }
  span.end();
}

/** W3C trace headers for an outgoing request made inside `span`. */
export function traceHeaders(span: Span): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), headers);
  return headers;
}

/**
 * Runs each step of an async iterator with `span` active: an async generator
 * resumes in the context of whoever calls next(), so the span is set for each
 * call, and everything the generator awaits (ML calls, provider requests) sees it.
 */
export function withSpanActive<T>(span: Span, iterable: AsyncIterable<T>): AsyncIterable<T> {
  // Without the SDK no span is recorded and nothing reads the context: no layer to pass each event through.
  return tracingOn() ? spanActiveSteps(span, iterable) : iterable;
}

async function* spanActiveSteps<T>(span: Span, iterable: AsyncIterable<T>): AsyncGenerator<T> {
  const active = trace.setSpan(context.active(), span);
  const iterator = iterable[Symbol.asyncIterator]();
  try {
    while (true) {
      const step = await context.with(active, () => iterator.next());
      if (step.done) return;
      yield step.value;
    }
  } finally {
    await context.with(active, () => iterator.return?.());
  }
}

export { SpanKind };
