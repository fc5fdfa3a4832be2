// Build step without any dependencies: copy src/ to dist/, stamp the build time,
// and write a static `health` file (useful when dist/ is served by nginx).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const src = path.join(__dirname, 'src');
const dist = path.resolve(__dirname, process.env.OUT_DIR || 'dist');

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist, { recursive: true });

const stamp = new Date().toISOString();
for (const name of fs.readdirSync(src)) {
  let body = fs.readFileSync(path.join(src, name), 'utf8');
  if (name.endsWith('.html')) body = body.replaceAll('__BUILD__', stamp);
  fs.writeFileSync(path.join(dist, name), body);
}
fs.writeFileSync(path.join(dist, 'health'), '{"status":"ok"}\n');

console.log(`built ${path.relative(__dirname, dist)}/ at ${stamp}`);
