// Serves web/ under /app/ the way query-svc does (files as themselves, every other path under
// /app/ the page, gzip), for the seat-map benchmark and for working on the pages against services
// that do not serve them yet. With --proxy, /app/config.json points at this server and requests
// are passed on: /_command/ to command-svc, /_waiting-room/ to the waiting room, the rest to
// query-svc, so the pages need no cross-origin answers.
//
//   node tests/serve.mjs --port 8090 --proxy http://127.0.0.1:8080,http://127.0.0.1:8081,http://127.0.0.1:8084

import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function pass(req, res, base, path) {
  const target = new URL(path, base);
  const upstream = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
    // A service that dies mid-stream drops the browser's connection too, as it would directly.
    answer.on('aborted', () => res.destroy());
    answer.on('error', () => res.destroy());
  });
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'upstream', message: 'service not reachable' } }));
  });
  req.pipe(upstream);
  res.on('close', () => upstream.destroy());
}

async function file(req, res, path) {
  let relative = normalize(decodeURIComponent(path.slice('/app/'.length))).replace(/^(\.\.[/\\])+/, '');
  let full = join(ROOT, relative);
  let isFile = false;
  try {
    isFile = relative !== '' && relative !== '.' && (await stat(full)).isFile() && !relative.startsWith('node_modules');
  } catch {
    isFile = false;
  }
  if (!isFile) {
    full = join(ROOT, 'index.html');
    relative = 'index.html';
  }
  const body = await readFile(full);
  const headers = { 'content-type': TYPES[extname(full)] || 'application/octet-stream', 'cache-control': 'no-cache' };
  if (/gzip/.test(req.headers['accept-encoding'] || '') && !/\.png$/.test(full)) {
    res.writeHead(200, { ...headers, 'content-encoding': 'gzip' });
    res.end(gzipSync(body));
  } else {
    res.writeHead(200, headers);
    res.end(body);
  }
}

/** Starts the server; returns {url, close}. */
export function serve({ port = 0, command, query, waitingRoom, demoSignin = false } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const origin = `http://${req.headers.host}`;
    if (url.pathname === '/app/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      const proxied = Boolean(query);
      res.end(JSON.stringify({
        command_url: proxied ? `${origin}/_command` : command || origin,
        query_url: origin,
        waiting_room_url: proxied ? `${origin}/_waiting-room` : waitingRoom || origin,
        demo_signin: demoSignin,
      }));
      return;
    }
    if (url.pathname === '/app') {
      res.writeHead(308, { location: '/app/' });
      res.end();
      return;
    }
    if (url.pathname.startsWith('/app/')) {
      file(req, res, url.pathname).catch(() => {
        res.writeHead(500);
        res.end();
      });
      return;
    }
    if (query && url.pathname.startsWith('/_command/')) return pass(req, res, command, req.url.slice('/_command'.length));
    if (query && url.pathname.startsWith('/_waiting-room/')) return pass(req, res, waitingRoom, req.url.slice('/_waiting-room'.length));
    if (query) return pass(req, res, query, req.url);
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const args = process.argv.slice(2);
  const value = (name) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const [command, query, waitingRoom] = (value('--proxy') || '').split(',');
  const { url } = await serve({ port: Number(value('--port') || 8090), command, query, waitingRoom, demoSignin: args.includes('--demo-signin') });
  console.log(`serving ${ROOT} at ${url}/app/`);
}
