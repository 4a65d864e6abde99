import { router } from '../trpc.ts';
import { classify } from './classify.ts';
import { compress } from './compress.ts';
import { generate } from './generate.ts';
import { health } from './health.ts';
import { modelRankings } from './model-rankings.ts';
import { purgeCache } from './purge-cache.ts';
import { selectModel } from './select-model.ts';
import { usage } from './usage.ts';

export const appRouter = router({
  health,
  generate,
  selectModel,
  classify,
  compress,
  modelRankings,
  usage,
  purgeCache,
});

export type AppRouter = typeof appRouter;
