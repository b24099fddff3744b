import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";

// The console is embedded in the ferry binary from internal/console/assets/dist
// (//go:embed all:dist). The build empties that folder, so it writes back the
// .gitkeep that keeps it in git.
const outDir = resolve(import.meta.dirname, "../internal/console/assets/dist");

export default defineConfig({
  plugins: [
    react(),
    {
      name: "ferry-gitkeep",
      closeBundle() {
        writeFileSync(resolve(outDir, ".gitkeep"), "");
      },
    },
  ],
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` against a running `ferry console --listen 127.0.0.1:8090`.
    proxy: { "/api": "http://127.0.0.1:8090" },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
