import { router } from '../trpc.ts';
import { classify } from './classify.ts';
import { compress } from './compress.ts';
import { generate } from './generate.ts';
import { health } from './health.ts';

export const appRouter = router({ health, generate, classify, compress });

export type AppRouter = typeof appRouter;
