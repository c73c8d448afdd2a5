// Prints "N passed, M failed" from meson's test log, the closing line a
// reader (or CI) takes the verdict from.
import fs from 'node:fs';

const file = process.argv[2];
let passed = 0, failed = 0, skipped = 0;
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const r = JSON.parse(line).result;
  if (r === 'OK' || r === 'EXPECTEDFAIL') passed++;
  else if (r === 'SKIP') skipped++;
  else failed++;
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
