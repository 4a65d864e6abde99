import { router } from '../trpc.ts';
import { generate } from './generate.ts';
import { health } from './health.ts';

export const appRouter = router({ health, generate });

export type AppRouter = typeof appRouter;
