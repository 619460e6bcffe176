// Drives headless Chromium against a running corral server to check its browser access policy
// (run by tests/server/browser_test.cc). Serves two identical pages from a loopback HTTP server
// of its own: one as http://localhost:PORT (an origin Ollama allows by default) and one as
// http://evil.test:PORT (Chromium maps that name to 127.0.0.1, so it is another site on the
// same machine). Each page tries, with fetch(), a JSON POST /api/copy (which needs a CORS
// preflight), a text/plain POST /api/copy (a "simple" request a page can send anywhere without
// one) and GET /api/tags, and writes what happened into the page, which --dump-dom prints.
//
// usage: node browser_cors.mjs <api-url> <chromium> <scratch-dir>
// prints one line: browser_cors: {"good": [...], "evil": [...]}
import http from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';

const [api, chromium, scratch] = process.argv.slice(2);
if (!api || !chromium || !scratch) {
  console.error('usage: node browser_cors.mjs <api-url> <chromium> <scratch-dir>');
  process.exit(2);
}

function page(tag) {
  return `<!doctype html><html><body><pre id="out">pending</pre><script>
const api = ${JSON.stringify(api)};
async function attempt(name, url, init) {
  try {
    const r = await fetch(url, init);
    return { name, status: r.status, body: (await r.text()).slice(0, 300) };
  } catch (e) {
    return { name, error: String(e) };
  }
}
(async () => {
  const copy = (dest) => JSON.stringify({ source: 'stories', destination: dest });
  const results = [
    await attempt('copy-json', api + '/api/copy',
                  { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: copy('${tag}-json') }),
    await attempt('copy-text', api + '/api/copy',
                  { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: copy('${tag}-text') }),
    await attempt('tags', api + '/api/tags', {}),
  ];
  document.getElementById('out').textContent = 'RESULT ' + JSON.stringify(results) + ' END';
})();
</script></body></html>`;
}

const server = http.createServer((req, res) => {
  const tag = req.url === '/good.html' ? 'good' : req.url === '/evil.html' ? 'evil' : null;
  if (!tag) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(page(tag));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;

function unescapeHtml(s) {
  return s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

function visit(url) {
  const profile = mkdtempSync(path.join(scratch, 'chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-proxy-server', '--no-first-run',
    '--disable-extensions', '--disable-background-networking', `--user-data-dir=${profile}`,
    '--host-resolver-rules=MAP evil.test 127.0.0.1',
    // Virtual time waits for the page's network activity; the budget bounds the page's timers.
    '--virtual-time-budget=30000', '--dump-dom', url,
  ];
  return new Promise((resolve) => {
    execFile(chromium, args, { timeout: 120000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      const m = /<pre id="out">RESULT (.*?) END<\/pre>/s.exec(stdout);
      if (!m) {
        resolve({ failed: `no result from ${url}: ${err ? err.message : ''}`, stdout: stdout.slice(0, 2000),
                  stderr: stderr.slice(-2000) });
        return;
      }
      resolve(JSON.parse(unescapeHtml(m[1])));
    });
  });
}

const good = await visit(`http://localhost:${port}/good.html`);
const evil = await visit(`http://evil.test:${port}/evil.html`);
server.close();
console.log('browser_cors: ' + JSON.stringify({ good, evil }));
