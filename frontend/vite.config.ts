import { defineConfig } from 'vite'

// The same build is embedded in the Wails window and served by the proxy at
// http://127.0.0.1:PORT/, so asset URLs are relative. public/.gitkeep is copied into dist/
// so that the committed dist/.gitkeep survives Vite emptying the folder
// (main.go embeds frontend/dist, which must exist on a fresh clone).
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` against a running headless proxy: `GBD_API=http://127.0.0.1:8321 npm run dev`
    proxy: process.env.GBD_API ? { '/api': process.env.GBD_API } : undefined,
  },
})
