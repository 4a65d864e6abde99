export {
  createGatewayMetrics,
  type GatewayMetrics,
  type MetricSources,
  type MetricsOptions,
  type RejectedLimit,
} from './gateway-metrics.ts';
export { LabelGuard, OVERFLOW_LABEL } from './label-guard.ts';
export { StreamMeter } from './stream-meter.ts';
