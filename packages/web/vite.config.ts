import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The page talks to the origin it is served from: in `vite dev` that is this
// server, which forwards the gateway's routes to a local `npm start`.
const gateway = process.env.TOKENFLOW_GATEWAY_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/trpc': { target: gateway, ws: true },
      '/api': { target: gateway },
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});
