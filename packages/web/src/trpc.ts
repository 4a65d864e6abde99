import type { AppRouter } from '@tokenflow/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';

/** Queries and mutations through TanStack Query; streams use the same client (see use-stream.ts). */
export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();
