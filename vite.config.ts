import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

/** The UI is built into the Worker's assets directory; `vite` dev proxies the API to `wrangler dev`. */
const api = process.env.AEGIS_API_ORIGIN ?? "http://127.0.0.1:8787";

export default defineConfig({
  root: "web",
  plugins: [preact()],
  build: { outDir: "../dist/client", emptyOutDir: true },
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false },
      "/ws": { target: api, ws: true },
    },
  },
});
