import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run console:dev`: hot reload against a running stack (`npm start`), whose API this proxies.
export default defineConfig({
  root: __dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      output: {
        // The libraries change less often than our pages: separate chunks stay cached across releases.
        manualChunks: {
          react: ['react', 'react-dom', 'react-router-dom'],
          antd: ['antd', '@ant-design/icons'],
          echarts: ['echarts'],
        },
      },
    },
  },
  server: {
    port: 5173,
    proxy: { '/api': process.env.CONSOLE_API_URL ?? 'http://127.0.0.1:3000' },
    // The console shares the domain's labels (stage names) with the engine.
    fs: { allow: ['..'] },
  },
});
