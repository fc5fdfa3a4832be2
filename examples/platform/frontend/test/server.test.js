'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { createServer } = require('../server.js');

async function get(server, urlPath) {
  const { port } = server.address();
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`);
  return { status: res.status, body: await res.text() };
}

test('serves /health and static files', async (t) => {
  const server = createServer(path.join(__dirname, '..', 'src'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());

  const health = await get(server, '/health');
  assert.strictEqual(health.status, 200);
  assert.deepStrictEqual(JSON.parse(health.body), { status: 'ok' });

  const index = await get(server, '/');
  assert.strictEqual(index.status, 200);
  assert.match(index.body, /<h1>platform<\/h1>/);

  assert.strictEqual((await get(server, '/missing.txt')).status, 404);
});
