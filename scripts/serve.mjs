// Serves the static build (build/) on localhost. `npm run preview` runs it directly; the e2e tests
// import startServer() so they can stop the server in the middle of a test (offline checks).
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

export const DEFAULT_PORT = 4173;
const BUILD_DIR = fileURLToPath(new URL('../build', import.meta.url));

/**
 * Starts a static server for `dir` on 127.0.0.1:`port` (0 picks a free port).
 * @param {{ dir?: string, port?: number, host?: string }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export async function startServer({
  dir = BUILD_DIR,
  port = DEFAULT_PORT,
  host = '127.0.0.1'
} = {}) {
  const assets = sirv(dir, {
    extensions: ['html'],
    dev: true, // read files on each request: tests swap files under a running server
    etag: true,
    setHeaders(res, pathname) {
      if (pathname === '/service-worker.js') res.setHeader('Cache-Control', 'no-cache');
      if (pathname.endsWith('.webmanifest'))
        res.setHeader('Content-Type', 'application/manifest+json');
      if (pathname.endsWith('.wasm')) res.setHeader('Content-Type', 'application/wasm');
      res.setHeader('X-Content-Type-Options', 'nosniff');
    }
  });
  const sockets = new Set();
  const server = createServer((req, res) =>
    assets(req, res, () => {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Not found');
    })
  );
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    // localhost (not the IP) so the page is a secure context with a stable origin name.
    url: `http://localhost:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve(undefined));
      })
  };
}

/** Serves build/ on $PORT (default 4173) until Ctrl+C; a clear message when the port is taken. */
export async function serveBuild() {
  const port = Number(process.env.PORT ?? DEFAULT_PORT);
  try {
    const { url } = await startServer({ port });
    console.log(`\nNight Core is running at ${url}  (Ctrl+C stops it)\n`);
  } catch (/** @type {any} */ error) {
    if (error?.code === 'EADDRINUSE') {
      console.error(`Port ${port} is in use. Stop the other server or run: PORT=4174 npm start`);
      process.exit(1);
    }
    throw error;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await serveBuild();
