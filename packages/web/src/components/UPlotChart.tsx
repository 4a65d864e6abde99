import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** uPlot's options without the size: the chart is as wide as its container. */
export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

/**
 * A uPlot chart that fills its container's width. It is created on mount and
 * again when `options` change (a new set of series), fed with setData when
 * only `data` changes, resized with its container and destroyed on unmount.
 * Callers memoise `options`: a new object each render would rebuild the chart.
 */
export function UPlotChart({
  options,
  data,
  height,
  label,
}: {
  options: ChartOptions;
  data: uPlot.AlignedData;
  height: number;
  /** What the chart shows, for screen readers (a canvas has no text). */
  label: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latestData = useRef(data);

  // Declared before the chart's effect: when options and data change together,
  // the old chart is gone (cleanups run first) and the new one starts with this data.
  useEffect(() => {
    latestData.current = data;
    chart.current?.setData(data);
  }, [data]);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const plot = new uPlot({ ...options, width: element.clientWidth, height }, latestData.current, element);
    chart.current = plot;
    const observer = new ResizeObserver(([entry]) => {
      const width = Math.floor(entry?.contentRect.width ?? 0);
      // A hidden tab measures 0 wide; the chart keeps its size until it is shown again.
      if (width > 0 && width !== plot.width) plot.setSize({ width, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = null;
    };
  }, [options, height]);

  return <div ref={container} className="chart" role="img" aria-label={label} />;
}
