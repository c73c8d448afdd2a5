// make bench: runs every benchmark, prints their figures, and writes the
// figures as one JSON file under tests/bench/results/ (named by date and
// machine) so that runs can be compared. Asserts nothing.
//
//   node tests/bench/run.mjs path/to/cdeventsd [query-events] [seconds]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const [bin, queryEvents = '1000000', seconds = '10'] = process.argv.slice(2);
const summary = {
  at: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
};

function run(script, args) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(here, script), bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('RESULT ')) Object.assign(summary, JSON.parse(line.slice(7)));
        else console.log(line);
      }
    });
    p.on('exit', resolve);
  });
}

console.log(`== ingest (wrk, nginx as the ceiling), ${seconds} s per run`);
await run('ingest.mjs', [seconds]);
console.log('== fan-out (nginx receivers) and a sink down');
await run('fanout.mjs', ['50000']);
console.log(`== queries on ${queryEvents} events`);
await run('audit.mjs', [queryEvents]);
const dir = path.join(here, 'results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${summary.at.slice(0, 19).replace(/:/g, '')}-${summary.host}.json`);
fs.writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
console.log(`figures written to ${path.relative(process.cwd(), file)}`);
